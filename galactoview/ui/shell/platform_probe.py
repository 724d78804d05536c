"""Check that Qt can open windows here, and explain why not.

Run as ``python -m galactoview.ui.shell.platform_probe`` (``make run`` does, first).

Qt aborts the whole process when its platform plugin cannot load, so the probe
starts a :class:`QGuiApplication` in a child process and reads its exit status
and stderr. Prints nothing and exits 0 when Qt starts; otherwise prints what is
missing (a display, or the system libraries of the xcb plugin, with the Debian
packages to install) followed by Qt's own messages, and exits 1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Final

__all__ = ["QT_XCB_DEBIAN_PACKAGES", "diagnose", "main", "missing_xcb_libraries", "probe"]

#: Debian/Ubuntu packages that Qt 6's xcb platform plugin needs.
QT_XCB_DEBIAN_PACKAGES: Final = (
    "libxcb-cursor0",
    "libegl1",
    "libgl1",
    "libxkbcommon-x11-0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-image0",
    "libfontconfig1",
    "libdbus-1-3",
)

#: Shared library file name -> Debian package providing it.
_PACKAGE_OF_LIBRARY: Final = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-image.so.0": "libxcb-image0",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libX11-xcb.so.1": "libx11-xcb1",
}

#: Platform plugins that need no display server.
_HEADLESS_PLATFORMS: Final = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb"})

_CHILD: Final = (
    "import sys\nfrom PySide6.QtGui import QGuiApplication\nQGuiApplication(sys.argv[:1])\n"
)


def probe(timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Start a QGuiApplication in a child process and return how it went."""
    return subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def missing_xcb_libraries() -> list[str]:
    """Return the shared libraries the xcb plugin needs that the loader cannot find (Linux)."""
    spec = find_spec("PySide6")
    ldd = shutil.which("ldd")
    if spec is None or spec.origin is None or ldd is None:
        return []
    plugin = Path(spec.origin).parent / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    if not plugin.is_file():
        return []
    done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, check=False)
    missing = []
    for line in done.stdout.splitlines():
        name, _, where = line.strip().partition("=>")
        if where.strip() == "not found":
            missing.append(name.strip())
    return missing


def diagnose(
    *,
    returncode: int,
    stderr: str,
    environ: Mapping[str, str],
    missing_libraries: Sequence[str],
    platform: str,
) -> str | None:
    """Explain why Qt could not start, or return None if it did.

    Parameters
    ----------
    returncode
        Exit status of the child process (negative: killed by a signal; Qt aborts).
    stderr
        What Qt printed.
    environ
        The environment the child ran with.
    missing_libraries
        Shared libraries of the xcb plugin that cannot be found.
    platform
        ``sys.platform``.

    Returns
    -------
    str or None
        A message for the user (several lines), None when Qt started.
    """
    if returncode == 0:
        return None
    lines = ["GalactoView cannot open a window: Qt failed to start its platform plugin."]
    requested = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if platform.startswith("linux"):
        no_display = not environ.get("DISPLAY") and not environ.get("WAYLAND_DISPLAY")
        if no_display and requested not in _HEADLESS_PLATFORMS:
            lines.append(
                "There is no display: DISPLAY and WAYLAND_DISPLAY are unset. "
                "Run under xvfb-run (e.g. `xvfb-run -a galactoview`) or set DISPLAY."
            )
        xcb_trouble = "xcb" in stderr or requested in ("", "xcb")
        if missing_libraries or (xcb_trouble and not no_display):
            lines.append("System libraries for Qt's xcb plugin may be missing. On Debian/Ubuntu:")
            lines.append("  sudo apt-get install " + " ".join(QT_XCB_DEBIAN_PACKAGES))
            for library in missing_libraries:
                package = _PACKAGE_OF_LIBRARY.get(library, "unknown package")
                lines.append(f"  missing: {library} ({package})")
    if stderr.strip():
        lines.append("Qt said:")
        lines.extend(f"  {line.rstrip()}" for line in stderr.strip().splitlines())
    else:
        lines.append(f"The Qt test process exited with status {returncode}.")
    return "\n".join(lines)


def main() -> int:
    """Run the probe; print a diagnosis to stderr if Qt cannot start.

    Returns
    -------
    int
        0 when Qt starts, 1 otherwise.
    """
    try:
        done = probe()
    except subprocess.TimeoutExpired:
        print("GalactoView cannot open a window: Qt did not start within 60 s.", file=sys.stderr)
        return 1
    if done.returncode == 0:
        return 0
    missing = missing_xcb_libraries() if sys.platform.startswith("linux") else []
    message = diagnose(
        returncode=done.returncode,
        stderr=done.stderr,
        environ=os.environ,
        missing_libraries=missing,
        platform=sys.platform,
    )
    print(message, file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
