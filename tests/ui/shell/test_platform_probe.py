"""Tests for galactoview.ui.shell.platform_probe: diagnosing why Qt cannot open a window.

No window is opened: :func:`~galactoview.ui.shell.platform_probe.diagnose` is pure, and the
command is run in a child process.
"""

from __future__ import annotations

import os
import subprocess
import sys

from galactoview.ui.shell import platform_probe


def test_platform_probe_explains_missing_display() -> None:
    message = platform_probe.diagnose(
        returncode=-6,
        stderr="qt.qpa.xcb: could not connect to display\nCould not load the Qt platform plugin",
        environ={},
        missing_libraries=[],
        platform="linux",
    )
    assert message is not None
    assert "no display" in message
    assert "xvfb-run" in message
    assert "could not connect to display" in message


def test_platform_probe_names_debian_packages() -> None:
    message = platform_probe.diagnose(
        returncode=-6,
        stderr="xcb-cursor0 or libxcb-cursor0 is needed to load the Qt xcb platform plugin",
        environ={"DISPLAY": ":0"},
        missing_libraries=["libxcb-cursor.so.0"],
        platform="linux",
    )
    assert message is not None
    assert "sudo apt-get install" in message
    for package in platform_probe.QT_XCB_DEBIAN_PACKAGES:
        assert package in message
    assert "missing: libxcb-cursor.so.0 (libxcb-cursor0)" in message


def test_platform_probe_is_silent_when_qt_starts() -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "galactoview.ui.shell.platform_probe"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def test_platform_probe_fails_clearly_without_display() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = "xcb"
    done = subprocess.run(
        [sys.executable, "-m", "galactoview.ui.shell.platform_probe"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "xvfb-run" in done.stdout + done.stderr
