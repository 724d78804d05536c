"""Image analysis of galactograms (Qt-free): duct-tree and filling-defect suggestions (issue 16)."""
