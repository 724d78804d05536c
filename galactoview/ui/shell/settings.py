"""Settings: what the workstation remembers between sessions, kept in Qt's QSettings.

Window geometry and dock layout, the last folder opened, the recent studies and the
reading options (links, overlays, mouse mode, magnifier). Values read back are
checked, so a settings file edited by hand (or written by another version) can never
break start-up: a bad value falls back to its default.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from PySide6.QtCore import QByteArray, QSettings

__all__ = ["MAX_RECENT", "Settings"]

#: How many recent studies File → Open Recent lists.
MAX_RECENT: Final = 10


class Settings:
    """Typed access to the application's :class:`QSettings`.

    Parameters
    ----------
    store
        Where to keep them; the application's default (user scope, named after the
        organisation and application) when None. Tests pass an INI file.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self.store = store if store is not None else QSettings()

    # --- values ---------------------------------------------------------------------

    def flag(self, key: str, default: bool) -> bool:
        """Return a boolean option (``"true"``/``"false"`` in INI files)."""
        value = self.store.value(key, default)
        if isinstance(value, bool):
            return value
        if isinstance(value, str):
            return {"true": True, "false": False}.get(value.lower(), default)
        return default

    def number(self, key: str, default: float, low: float, high: float) -> float:
        """Return a numeric option clamped to ``[low, high]`` (the default if unreadable)."""
        try:
            value = float(self.store.value(key, default))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return default
        return min(max(value, low), high) if value == value else default

    def text(self, key: str, default: str = "") -> str:
        """Return a text option."""
        value = self.store.value(key, default)
        return value if isinstance(value, str) else default

    def bytes_value(self, key: str) -> QByteArray | None:
        """Return a binary value (window geometry or state), None when absent."""
        value = self.store.value(key)
        return value if isinstance(value, QByteArray) else None

    def set(self, key: str, value: object) -> None:
        """Store a value."""
        self.store.setValue(key, value)

    # --- recent studies ----------------------------------------------------------------

    def recent(self) -> list[list[Path]]:
        """Return the recent openings (each the list of paths opened together), newest first."""
        value = self.store.value("recent", [])
        entries = [value] if isinstance(value, str) else value
        if not isinstance(entries, list):
            return []
        result: list[list[Path]] = []
        for entry in entries:
            if isinstance(entry, str) and entry:
                result.append([Path(part) for part in entry.split("\n") if part])
        return result[:MAX_RECENT]

    def add_recent(self, paths: Sequence[Path]) -> None:
        """Put an opening at the top of the recent list (once), keeping :data:`MAX_RECENT`."""
        entry = "\n".join(str(path.resolve()) for path in paths)
        if not entry:
            return
        entries = ["\n".join(str(p) for p in item) for item in self.recent()]
        entries = [entry, *(item for item in entries if item != entry)][:MAX_RECENT]
        self.store.setValue("recent", entries)

    def clear_recent(self) -> None:
        """Forget the recent studies."""
        self.store.remove("recent")
