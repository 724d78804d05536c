"""Start a local Orthanc holding the sample studies, for trying GalactoView's PACS features.

``make orthanc`` runs this: a private Orthanc (the test suite's launcher,
``tests.pacs.orthanc``: its own configuration and database under ``build/local-orthanc``,
loopback only, the Debian package's service untouched) on HTTP port 8042 and DICOM port
4242 when they are free (else free ports, printed), with the bundled sample studies —
the ductogram with its radiologist's marks as a DICOM SR, and the 2024 screening
mammogram that is its prior — stored by ``galactoview pacs store``. It writes the
DICOMweb base URL to ``build/local-orthanc/url`` (``make run-pacs`` reads it) and runs
until Ctrl+C, then stops Orthanc and waits for it to exit.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from galactoview.cli import main as cli_main  # noqa: E402
from galactoview.paths import sample_dicom_dir  # noqa: E402
from tests.pacs.orthanc import OrthancServer, free_port, missing_reason  # noqa: E402

FOLDER = ROOT / "build" / "local-orthanc"


def _port(preferred: int) -> int:
    """Return ``preferred`` if nothing listens on it on 127.0.0.1, else a free port."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", preferred))
        except OSError:
            return free_port()
    return preferred


def main() -> int:
    """Start Orthanc with the sample studies; stop it on Ctrl+C."""
    reason = missing_reason()
    if reason is not None:
        print(f"cannot start a local Orthanc: {reason}", file=sys.stderr)
        return 1
    server = OrthancServer(FOLDER, _port(8042), _port(4242), free_port())
    server.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        url = server.dicomweb_url
        (FOLDER / "url").write_text(url + "\n", encoding="utf-8")
        code = cli_main(["pacs", "store", "--url", url, str(sample_dicom_dir())])
        if code != 0:
            print(f"storing the sample studies failed (exit {code})", file=sys.stderr)
        print(
            f"\nOrthanc is running: DICOMweb {url}, DIMSE {server.dimse_address}\n"
            "In another terminal: make run-pacs   (File → Query/Retrieve…, Search, Retrieve)\n"
            "Ctrl+C stops it.",
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C: stop Orthanc below
            stop.wait()
    finally:
        server.stop()
        (FOLDER / "url").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
