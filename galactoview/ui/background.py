"""Work in a pool thread whose outcome comes back to the GUI thread, if anyone still waits.

:class:`BackgroundCall` runs a function in Qt's global thread pool and reports whether it
returned (and its value) or raised (and its message's first line). The object that
asked may be deleted while the work runs (its window or dialog closed): the outcome is
then dropped.

A pool thread never touches the object that asked. Emitting a signal on a QObject from
another thread while the GUI thread deletes it is a race no check can close (the object
can go between the check and the emit: a crash, not an exception). So the pool thread
emits only on one dispatcher that lives in the GUI thread as long as the application,
with a weak reference to the asker; the dispatcher, in the GUI thread, hands the outcome
on if the asker is still there. Qt offers no such relay (``QFutureWatcher`` is not
exposed to Python by PySide6), hence this one.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, Signal, Slot

__all__ = ["BackgroundCall"]


class _Dispatcher(QObject):
    """Lives in the GUI thread for the whole session; pool threads emit only on it."""

    outcome = Signal(object, bool, object)  # weakref.ref to a BackgroundCall, ok, value

    def __init__(self) -> None:
        super().__init__()
        self.outcome.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    @Slot(object, bool, object)
    def _deliver(self, asker: weakref.ref[BackgroundCall], ok: bool, value: object) -> None:
        """Hand an outcome to its asker if it is still there (GUI thread)."""
        call = asker()
        if call is not None and shiboken6.isValid(call):
            call.done.emit(ok, value)


_dispatcher: _Dispatcher | None = None


def _the_dispatcher() -> _Dispatcher:
    """Return the dispatcher, made on first use and living in the application's thread.

    Raises
    ------
    RuntimeError
        When no application exists: there is no GUI thread to come back to.
    """
    global _dispatcher
    application = QCoreApplication.instance()
    if application is None:
        raise RuntimeError("BackgroundCall needs a running Qt application")
    if _dispatcher is None or not shiboken6.isValid(_dispatcher):
        _dispatcher = _Dispatcher()  # in this thread: it may move itself
        _dispatcher.moveToThread(application.thread())
    return _dispatcher


class _Call(QRunnable):
    """Runs one function in a pool thread and hands its outcome to the dispatcher."""

    def __init__(
        self, work: Callable[[], object], asker: BackgroundCall, dispatcher: _Dispatcher
    ) -> None:
        super().__init__()
        self._work = work
        self._asker = weakref.ref(asker)
        self._dispatcher = dispatcher

    def run(self) -> None:
        """Run the work; never lets an exception escape into the pool."""
        try:
            ok, value = True, self._work()
        except Exception as error:  # any failure becomes one line for the reader
            ok, value = False, (str(error).splitlines() or [type(error).__name__])[0]
        self._dispatcher.outcome.emit(self._asker, ok, value)


class BackgroundCall(QObject):
    """Runs functions in the global thread pool and reports each outcome in the GUI thread.

    Signals
    -------
    done(bool, object)
        Whether the function returned (then its value) or raised (then the first line
        of its message), emitted in the GUI thread; never once this object is deleted.
    """

    done = Signal(bool, object)

    def start(self, work: Callable[[], object]) -> None:
        """Run ``work()`` in a pool thread (call from the GUI thread)."""
        QThreadPool.globalInstance().start(_Call(work, self, _the_dispatcher()))
