"""Radiologist's annotations: coded findings, duct trees, landmarks and their SR codec (Qt-free).

* :mod:`~galactoview.annotations.codes` — the coded concepts used (PS3.16 CID 6057 and friends);
* :mod:`~galactoview.annotations.model` — immutable findings, duct segments, nipple landmarks;
* :mod:`~galactoview.annotations.geometry` — measurements in mm from a
  :class:`~galactoview.dicom.calibration.Calibration`;
* :mod:`~galactoview.sr.sr_codec` — TID 1500 Comprehensive SR and its DICOM JSON Model.
"""
