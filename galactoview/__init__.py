"""GalactoView: a DICOM viewer and annotation tool for galactography.

Importing this package never imports Qt; the GUI lives in :mod:`galactoview.ui`
and is wired together by :mod:`galactoview.app`.
"""

__version__ = "0.1.0"
