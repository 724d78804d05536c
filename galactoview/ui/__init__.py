"""Every PySide6 / pyqtgraph import of GalactoView lives in this package."""
