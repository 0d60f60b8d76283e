"""The composition root: the command line, and the processes it assembles."""
