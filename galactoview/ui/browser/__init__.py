"""The browser room of the window."""
