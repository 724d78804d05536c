"""BackgroundCall: outcomes come back in the GUI thread, and never to a deleted asker."""

from __future__ import annotations

import threading
import weakref

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QThreadPool
from pytestqt.qtbot import QtBot

from galactoview.ui import background
from galactoview.ui.background import BackgroundCall


def test_a_value_comes_back_in_the_gui_thread(qtbot: QtBot) -> None:
    call = BackgroundCall()
    threads: list[object] = []
    # Direct: the slot runs in whichever thread emits `done`, which must be the GUI's.
    call.done.connect(
        lambda ok, value: threads.append(QThread.currentThread()),
        Qt.ConnectionType.DirectConnection,
    )
    with qtbot.waitSignal(call.done, timeout=10_000) as blocker:
        call.start(lambda: (QThread.currentThread(), 42))
    ok, (worker, value) = blocker.args
    application = QCoreApplication.instance()
    assert application is not None
    assert ok and value == 42
    assert worker is not application.thread()  # it ran in the pool…
    assert threads == [application.thread()]  # …and came back


def test_an_error_comes_back_as_its_first_line(qtbot: QtBot) -> None:
    call = BackgroundCall()

    def fails() -> object:
        raise OSError("PACS unreachable\nsecond line")

    with qtbot.waitSignal(call.done, timeout=10_000) as blocker:
        call.start(fails)
    assert blocker.args == [False, "PACS unreachable"]


def test_an_outcome_for_a_deleted_asker_is_dropped(qtbot: QtBot) -> None:
    # The pool thread must never emit on the asker itself: deleting it in the GUI thread
    # during that emit is a crash, not an exception. It emits on the dispatcher, which
    # drops the outcome here, in the GUI thread.
    release = threading.Event()
    owner = QObject()
    call = BackgroundCall(owner)
    heard: list[object] = []
    call.done.connect(lambda ok, value: heard.append(value))
    call.start(lambda: release.wait(timeout=30))
    shiboken6.delete(owner)  # the window and its call are gone while the work runs
    assert not shiboken6.isValid(call)
    delivered: list[bool] = []

    def seen(asker: weakref.ref[object], ok: bool, value: object) -> None:
        if asker() is call:  # other calls (an earlier test's) may finish meanwhile
            delivered.append(ok)

    dispatcher = background._the_dispatcher()
    dispatcher.outcome.connect(seen)
    try:
        release.set()
        assert QThreadPool.globalInstance().waitForDone(10_000)
        qtbot.waitUntil(lambda: delivered == [True], timeout=10_000)  # it came back…
    finally:
        dispatcher.outcome.disconnect(seen)
    assert heard == []  # …and was dropped
