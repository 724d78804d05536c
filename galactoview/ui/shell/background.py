"""Work in a pool thread whose outcome comes back to the GUI thread, if anyone still waits.

:class:`BackgroundCall` runs a function in Qt's global thread pool and reports whether it
returned (and its value) or raised (and its message's first line). The object that
asked may be deleted while the work runs (its window or dialog closed): the outcome is
then dropped, not raised in the pool thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

__all__ = ["BackgroundCall"]


class _Call(QRunnable):
    """Runs one function in a pool thread and hands its outcome to the relay."""

    def __init__(self, work: Callable[[], object], relay: BackgroundCall) -> None:
        super().__init__()
        self._work = work
        self._relay = relay

    def run(self) -> None:
        """Run the work; never lets an exception escape into the pool."""
        try:
            ok, value = True, self._work()
        except Exception as error:  # any failure becomes one line for the reader
            ok, value = False, (str(error).splitlines() or [type(error).__name__])[0]
        try:
            self._relay.done.emit(ok, value)
        except RuntimeError:  # the relay was deleted (its dialog closed): nobody waits
            return


class BackgroundCall(QObject):
    """Runs functions in the global thread pool and reports each outcome in the GUI thread.

    Signals
    -------
    done(bool, object)
        Whether the function returned (then its value) or raised (then the first line
        of its message), delivered queued in the thread this object lives in.
    """

    done = Signal(bool, object)

    def start(self, work: Callable[[], object]) -> None:
        """Run ``work()`` in a pool thread."""
        QThreadPool.globalInstance().start(_Call(work, self))
