"""The annotate room of the window."""
