"""The viewer room of the window."""
