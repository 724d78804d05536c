"""A private Orthanc for the PACS tests: own config, own database, free loopback ports.

``start_orthanc(folder)`` writes ``folder/orthanc.json``, starts ``/usr/sbin/Orthanc``
as a plain process (its Debian service is never used), and returns once ``GET /system``
answers; :meth:`OrthancServer.stop` sends SIGTERM and waits for the process to exit
(trap 3 of /work/shared/reference/pacs.md: a second Orthanc on the same database while
the first is still stopping exits with "SQLite: database is locked").

The configuration is the one measured to work (DICOMweb plugin on, every DIMSE service
allowed, our AE ``GALACTOVIEW`` known at 127.0.0.1 and :attr:`OrthancServer.scp_port`,
the port a test's storage SCP listens on for C-MOVE). HTTP is loopback-only
(``RemoteAccessAllowed: false``); Orthanc's DICOM port listens on every interface and
cannot be told otherwise (trap 4): tests only ever use 127.0.0.1.

With ``users={"name": "password"}`` Orthanc demands HTTP Basic authentication.
"""

from __future__ import annotations

import base64
import json
import shutil
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

ORTHANC: Final = Path("/usr/sbin/Orthanc")
DICOMWEB_PLUGIN: Final = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")
#: Orthanc's AE title in the tests, and ours (registered in its DicomModalities).
ORTHANC_AE: Final = "ORTHANC"
OUR_AE: Final = "GALACTOVIEW"
#: Seconds Orthanc may take to answer GET /system after it starts, and to exit on SIGTERM.
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 30.0


def missing_reason() -> str | None:
    """Return why Orthanc cannot run here (for ``pytest.skip``), or ``None`` if it can."""
    for path, package in ((ORTHANC, "orthanc"), (DICOMWEB_PLUGIN, "orthanc-dicomweb")):
        if not path.exists():
            return (
                f"{path} is missing (Debian package {package}; "
                "`sh .ci/install-system-deps.sh` as root installs it)"
            )
    return None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class OrthancStartError(RuntimeError):
    """Orthanc exited or did not answer in time; the message ends with its log."""


@dataclass
class OrthancServer:
    """A running private Orthanc (see the module docstring).

    Attributes
    ----------
    folder
        Holds ``orthanc.json``, the database ``db/`` and ``orthanc.log``.
    http_port, dicom_port
        Its HTTP (REST and DICOMweb) and DICOM ports on 127.0.0.1.
    scp_port
        The port registered for our AE ``GALACTOVIEW``: where a test's storage SCP
        listens to receive C-MOVE.
    users
        HTTP Basic users and passwords; empty when authentication is off.
    """

    folder: Path
    http_port: int
    dicom_port: int
    scp_port: int
    users: Mapping[str, str] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Orthanc's own REST root, ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb_url(self) -> str:
        """The DICOMweb base URL (PS3.18), ``http://127.0.0.1:PORT/dicom-web``."""
        return f"{self.url}/dicom-web"

    @property
    def dimse_address(self) -> str:
        """``ORTHANC@127.0.0.1:PORT``, as ``--dimse`` takes it."""
        return f"{ORTHANC_AE}@127.0.0.1:{self.dicom_port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "orthanc.json"

    @property
    def log_path(self) -> Path:
        return self.folder / "orthanc.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def config(self) -> dict[str, Any]:
        """Return the Orthanc configuration (JSON) of this server."""
        return {
            "Name": "GALACTO-TEST-PACS",
            "StorageDirectory": str(self.folder / "db"),
            "IndexDirectory": str(self.folder / "db"),
            "Plugins": [str(DICOMWEB_PLUGIN)],
            "HttpPort": self.http_port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": bool(self.users),
            "RegisteredUsers": dict(self.users),
            "DicomServerEnabled": True,
            "DicomAet": ORTHANC_AE,
            "DicomPort": self.dicom_port,
            "DicomCheckCalledAet": False,
            "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowStore": True,
            "DicomAlwaysAllowFind": True,
            "DicomAlwaysAllowGet": True,
            "DicomAlwaysAllowMove": True,
            "UnknownSopClassAccepted": True,
            "DicomModalities": {OUR_AE: [OUR_AE, "127.0.0.1", self.scp_port]},
            "SaveJobs": False,
            "StableAge": 5,
            "HttpsVerifyPeers": True,
            "DicomWeb": {
                "Enable": True,
                "Root": "/dicom-web/",
                "EnableWado": True,
                "WadoRoot": "/wado",
                "Ssl": False,
                "StudiesMetadata": "Full",
                "SeriesMetadata": "Full",
            },
        }

    def start(self) -> None:
        """Write the config, start Orthanc and return when ``GET /system`` answers.

        Raises
        ------
        OrthancStartError
            It exited first, or did not answer within :data:`START_TIMEOUT_S`.
        """
        if self.running:
            raise OrthancStartError("this Orthanc is already running")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(json.dumps(self.config(), indent=2), encoding="utf-8")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [str(ORTHANC), str(self.config_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.folder,
            )
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        waited = 0.0
        step = 0.05
        while True:
            if self.answers():
                return
            try:
                # Waiting on the process is the pause between probes: an Orthanc that exits
                # (bad config, locked database) is noticed at once.
                code = self.process.wait(timeout=step)
            except subprocess.TimeoutExpired:
                waited += step
                if waited >= START_TIMEOUT_S:
                    self.stop()
                    raise OrthancStartError(
                        f"Orthanc did not answer GET /system in {START_TIMEOUT_S} s\n"
                        + self.log_tail()
                    ) from None
                continue
            self.process = None
            raise OrthancStartError(f"Orthanc exited with status {code}\n" + self.log_tail())

    def answers(self) -> bool:
        """Return whether ``GET /system`` answers 200 now (with the first user's login)."""
        try:
            with self.request("GET", "/system", timeout=1.0) as answer:
                return bool(answer.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        content_type: str | None = None,
        timeout: float = 30.0,
    ) -> Any:
        """Open an HTTP request to Orthanc's REST API (as the first registered user).

        Only for setting up and inspecting the test server; the code under test talks
        DICOMweb or DIMSE.
        """
        request = urllib.request.Request(self.url + path, data=body, method=method)
        if content_type:
            request.add_header("Content-Type", content_type)
        if self.users:
            user, password = next(iter(self.users.items()))
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            request.add_header("Authorization", f"Basic {token}")
        return urllib.request.urlopen(request, timeout=timeout)

    def rest_json(self, method: str, path: str, body: bytes | None = None) -> Any:
        """Return the JSON answer of a REST request."""
        with self.request(method, path, body) as answer:
            return json.loads(answer.read())

    def instance_count(self) -> int:
        """Return how many instances Orthanc holds (``GET /statistics``)."""
        return int(self.rest_json("GET", "/statistics")["CountInstances"])

    def clear(self) -> None:
        """Delete every patient (and so every study, series and instance) it holds."""
        for patient in self.rest_json("GET", "/patients"):
            with self.request("DELETE", f"/patients/{patient}"):
                pass

    def upload(self, data: bytes) -> None:
        """Store one DICOM file through Orthanc's REST API (``POST /instances``)."""
        with self.request("POST", "/instances", data, content_type="application/dicom"):
            pass

    def stop(self) -> int | None:
        """Send SIGTERM and wait until the process has exited; return its exit status."""
        process, self.process = self.process, None
        if process is None:
            return None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                return process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                return process.wait()
        return process.returncode

    def log_tail(self, lines: int = 30) -> str:
        """Return the last lines of Orthanc's log."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def start_orthanc(folder: Path, users: Mapping[str, str] | None = None) -> OrthancServer:
    """Start a private Orthanc with its database in ``folder`` on free loopback ports.

    Raises
    ------
    OrthancStartError
        It could not start (see the log tail in the message).
    """
    server = OrthancServer(folder, free_port(), free_port(), free_port(), dict(users or {}))
    server.start()
    return server


def remove_database(server: OrthancServer) -> None:
    """Delete a stopped server's database folder."""
    assert not server.running
    shutil.rmtree(server.folder / "db", ignore_errors=True)
