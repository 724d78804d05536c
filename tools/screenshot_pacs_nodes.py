"""Save a screenshot of Edit → PACS Nodes… after a real Test Connection, for docs/.

Usage::

    .venv/bin/python tools/screenshot_pacs_nodes.py docs/pacs-nodes.png

Runs itself again under ``xvfb-run`` (as ``tools/screenshot.py`` does), starts a private
Orthanc (``tests/pacs/orthanc.py``: own config and database in a temporary folder, free
loopback ports; stopped at the end), fills the dialog with two nodes (a DICOMweb PACS
with HTTP Basic login and that Orthanc over DIMSE), runs Test Connection on the Orthanc
node, waits for its answer and saves the dialog as a PNG of at most 300 KB. Settings
and secrets stay in the temporary folder and in memory: the user's own are neither used
nor changed.

Exits 0 on success; 1 with a one-line message on stderr when Xvfb or Orthanc is
missing, or the test does not answer in time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Final

_TOOLS: Final = Path(__file__).resolve().parent
sys.path[:0] = [str(_TOOLS), str(_TOOLS.parent)]  # tools/screenshot.py, and tests/ for Orthanc

from screenshot import _encode_png, _fail  # noqa: E402 (after the path is set)

_UNDER_XVFB: Final = "GALACTOVIEW_SCREENSHOT_UNDER_XVFB"
_TEST_TIMEOUT_MS: Final = 30_000


def main(argv: list[str] | None = None) -> int:
    """Run the tool; see the module docstring."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print(f"usage: {Path(sys.argv[0]).name} OUTPUT.png", file=sys.stderr)
        return 2
    output = Path(args[0]).resolve()
    if os.environ.get(_UNDER_XVFB) == "1":
        return _take(output)
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None or shutil.which("Xvfb") is None:
        return _fail("xvfb-run or Xvfb not found (Debian/Ubuntu: apt-get install xvfb xauth)")
    env = {**os.environ, _UNDER_XVFB: "1", "QT_QPA_PLATFORM": "xcb"}
    command = [xvfb_run, "-a", "-s", "-screen 0 1280x900x24", sys.executable, __file__, str(output)]
    return subprocess.run(command, env=env, timeout=300, check=False).returncode


def _take(output: Path) -> int:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtGui import QImage

    from galactoview.app import create_application
    from galactoview.pacs.configured import NodeKind, NodeSettings, SecretStore
    from galactoview.pacs.nodes import AuthKind
    from galactoview.ui.shell.pacs_nodes_dialog import PacsNodes, PacsNodesDialog
    from galactoview.ui.shell.settings import Settings
    from tests.pacs.memory_keyring import MemoryKeyring
    from tests.pacs.orthanc import ORTHANC_AE, missing_reason, start_orthanc

    reason = missing_reason()
    if reason:
        return _fail(reason)
    folder = Path(tempfile.mkdtemp(prefix="galactoview-pacs-shot-"))
    server = start_orthanc(folder / "orthanc")
    try:
        app = create_application(["galactoview"])
        settings = Settings(QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
        keyring = MemoryKeyring()
        nodes = PacsNodes(settings, SecretStore(keyring))
        hospital = NodeSettings(
            "Hospital PACS",
            NodeKind.DICOMWEB,
            url="https://pacs.example.org/dicom-web",
            auth=AuthKind.BASIC,
            username="radiologist",
        )
        local = NodeSettings(
            "Local Orthanc",
            NodeKind.DIMSE,
            called_ae=ORTHANC_AE,
            host="127.0.0.1",
            port=server.dicom_port,
        )
        nodes.save([hospital, local], hospital.name)
        nodes.secrets.put(hospital.name, "not-a-real-password")
        dialog = PacsNodesDialog(nodes)
        dialog.resize(820, 560)
        dialog.show()
        dialog.list.setCurrentRow(1)
        loop = QEventLoop()
        answers: list[bool] = []

        def answered(ok: bool, _text: str) -> None:
            answers.append(ok)
            loop.quit()

        dialog.test_finished.connect(answered)
        QTimer.singleShot(_TEST_TIMEOUT_MS, loop.quit)
        dialog.test_connection()
        loop.exec()
        if answers != [True]:
            return _fail(f"Test Connection did not succeed: {dialog.test_label.text()}")
        QTimer.singleShot(500, loop.quit)  # let it paint
        loop.exec()
        image = dialog.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
        dialog.close()
        data = _encode_png(image)
        if data is None:
            return _fail("could not encode the screenshot as a PNG under 300 KB")
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_bytes(data)
        print(f"{output}: {len(data) / 1024:.0f} KB")
        del app
        return 0
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
