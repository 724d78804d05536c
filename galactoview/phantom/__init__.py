"""Synthetic galactography phantom: 3-D breast model, X-ray projection, DICOM writer (Qt-free)."""
