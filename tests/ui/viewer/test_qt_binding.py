"""The Qt binding itself: guards against binding bugs that would crash the workstation.

PySide6 6.12.0 decremented the reference count of ``True`` on every signal emit; on
Python 3.11 (where ``True`` is not immortal) the interpreter aborted with
"bool_dealloc: deallocating True or False" after a few thousand window/level drag
steps. That version is excluded in pyproject.toml; this test fails if it comes back.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    changed = Signal(object)


def test_signal_emit_keeps_reference_counts_of_singletons() -> None:
    emitter = _Emitter()
    received = [0]

    def count(_value: object) -> None:
        received[0] += 1

    emitter.changed.connect(count)
    before = {value: sys.getrefcount(value) for value in (True, False, None)}
    for _ in range(200):
        emitter.changed.emit(None)
    after = {value: sys.getrefcount(value) for value in (True, False, None)}
    assert received[0] == 200
    for value, initial in before.items():
        # Allow a little noise from the interpreter; the bug lost one per emit (200).
        assert abs(after[value] - initial) < 20, f"{value!r}: {initial} -> {after[value]}"
