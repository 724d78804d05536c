"""Fixtures of the PACS tests: a private Orthanc per test session (tests/pacs/orthanc.py).

* ``orthanc`` — no authentication; DICOMweb at ``orthanc.dicomweb_url``, DICOM at
  ``orthanc.dimse_address``.
* ``orthanc_auth`` — the same with HTTP Basic authentication on; the user and password
  are :data:`AUTH_USER` / :data:`AUTH_PASSWORD`.

Both are shared by the session: a test that needs an empty server calls
``orthanc.clear()`` first, or starts its own with ``start_orthanc(tmp_path)``. Tests
skip, saying why, where Orthanc is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest

from tests.pacs.orthanc import OrthancServer, missing_reason, start_orthanc

AUTH_USER: Final = "radiologist"
AUTH_PASSWORD: Final = "galacto-secret"


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """A private Orthanc without authentication, running for the whole session."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = start_orthanc(tmp_path_factory.mktemp("orthanc"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def orthanc_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OrthancServer]:
    """A private Orthanc demanding HTTP Basic authentication (AUTH_USER / AUTH_PASSWORD)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    server = start_orthanc(tmp_path_factory.mktemp("orthanc-auth"), {AUTH_USER: AUTH_PASSWORD})
    yield server
    server.stop()
