"""PACS access (Qt-free): DICOMweb and DIMSE nodes, query, retrieve, store.

* :mod:`galactoview.pacs.nodes` — what a PACS node is (:class:`~.nodes.DicomWebNode`,
  :class:`~.nodes.DimseNode`) and how the command line names one (``--url URL``,
  ``--dimse AET@HOST:PORT``).
* :mod:`galactoview.pacs.configured` — nodes as the settings keep them (JSON, no secrets)
  and their secrets in the OS keyring (else for the session).
* :mod:`galactoview.pacs.dicomweb` — QIDO-RS, WADO-RS and STOW-RS (PS3.18) through
  ``dicomweb-client``.
* :mod:`galactoview.pacs.dimse` — C-ECHO, C-FIND, C-GET, C-MOVE and C-STORE (PS3.4,
  PS3.7) through ``pynetdicom``.
* :mod:`galactoview.pacs.results` — what both return: study and series matches,
  per-instance progress, retrieve and store results with per-object failures.
* :mod:`galactoview.pacs.revisions` — the newest SR revision of a study (the head of its
  Predecessor Documents chain) written as the study's sidecar.
* :mod:`galactoview.pacs.outgoing` — what a store sends: files, folders, sidecars as SRs.
* :mod:`galactoview.pacs.encapsulated_pdf` — the report's PDF as an Encapsulated PDF
  instance (PS3.3 A.45.1) referencing the SR it was rendered from.

Layer: a sibling of ``report``, ``phantom`` and ``paths``; it may import ``sr`` and
everything below it, and only ``cli``, ``ui`` and ``app`` import it.
"""
