"""The review room of the window."""
