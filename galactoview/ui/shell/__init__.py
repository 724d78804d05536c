"""The shell room of the window."""
