"""DICOM I/O and display math (Qt-free)."""
