"""Qt-free DICOM SR (TID 1500) codec, sidecar files and the per-study annotation store."""
