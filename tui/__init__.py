"""The consoles: Textual apps that follow the engine over the bus."""
