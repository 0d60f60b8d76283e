"""The engine: owns incidents, decides what happens to every alert."""
