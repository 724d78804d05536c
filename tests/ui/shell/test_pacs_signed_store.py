"""After signing: "Store the signed report and its PDF on <node>?" — yes stores both, no nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dicomweb_client.api import DICOMwebClient
from pydicom.uid import ComprehensiveSRStorage, EncapsulatedPDFStorage
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from galactoview.pacs.configured import NodeKind, NodeSettings
from galactoview.pacs.encapsulated_pdf import pdf_bytes
from galactoview.pacs.results import StoreResult
from galactoview.ui.shell.main_window import MainWindow
from galactoview.ui.shell.pacs_store import (
    STORED_KEY,
    StoreChoice,
    ask_signed_store_with_dialog,
    signed_store_question,
)
from tests.pacs.conftest import orthanc
from tests.pacs.orthanc import ORTHANC_AE, OrthancServer, free_port
from tests.pacs.test_encapsulated_pdf import tiny_pdf
from tests.pacs.test_signed_store import on_pacs
from tests.sr.test_persistence import SIGNATURE
from tests.ui.annotate.test_signed_read_only import study_with_report
from tests.ui.conftest import OpenWindow
from tests.ui.shell.test_pacs_store import sr_uid, use_node

__all__ = ["orthanc"]  # the fixture, used by name


class Asked:
    """Stands for the question: notes it and keeps the callback to answer it later."""

    def __init__(self) -> None:
        self.questions: list[str] = []
        self.answer: Callable[[bool], None] | None = None

    def __call__(self, _parent: QWidget, text: str, answered: Callable[[bool], None]) -> None:
        self.questions.append(text)
        self.answer = answered


def close_without_storing(_parent: QWidget, _studies: object, _node: str) -> StoreChoice:
    """Answer the closing window's "store the marks?" (a signed revision not on the node)."""
    return StoreChoice.CLOSE


def signed_window(
    open_window: OpenWindow, tmp_path: Path, node: NodeSettings | None
) -> tuple[MainWindow, Path, str, Asked]:
    """A window on a copied ductogram whose report is signed; the node set; the question faked.

    Call it before setting a node in another window: the windows of a test share settings.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    folder, study, _finding, _report = study_with_report(open_window, tmp_path, SIGNATURE)
    window, asked = window_on(open_window, folder, node)
    return window, folder, study, asked


def window_on(
    open_window: OpenWindow, folder: Path, node: NodeSettings | None
) -> tuple[MainWindow, Asked]:
    """A window on a study folder, with the node set and the question faked."""
    window = open_window([folder])
    if node is not None:
        use_node(window, node)
    asked = Asked()
    window.pacs.ask_signed = asked
    return window, asked


def answer_yes(qtbot: QtBot, window: MainWindow, asked: Asked) -> StoreResult | None:
    assert asked.answer is not None
    with qtbot.waitSignal(window.pacs.signed_store_finished, timeout=60_000) as signal:
        asked.answer(True)
    result = signal.args[0]
    assert result is None or isinstance(result, StoreResult)
    return result


def test_yes_stores_the_signed_sr_and_the_pdf_by_stow(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    orthanc.clear()
    url = orthanc.dicomweb_url
    node = NodeSettings("Orthanc", NodeKind.DICOMWEB, url=url)
    window, folder, study, asked = signed_window(open_window, tmp_path, node)
    pdf = tiny_pdf("Signed: Lindqvist")

    window.pacs.offer_signed_store(study, pdf)
    assert asked.questions == ["Store the signed report and its PDF on Orthanc?"]
    assert orthanc.instance_count() == 0  # nothing before the answer
    result = answer_yes(qtbot, window, asked)

    uid = sr_uid(folder, study)
    assert result is not None and result.failures == ()
    assert len(result.stored) == 2 and uid in result.stored
    instances = on_pacs(url, study)
    assert instances[uid][0] == ComprehensiveSRStorage
    ((pdf_uid, (_, series)),) = [
        (sop, found) for sop, found in instances.items() if found[0] == EncapsulatedPDFStorage
    ]
    back = DICOMwebClient(url).retrieve_instance(study, series, pdf_uid)
    assert pdf_bytes(back) == pdf
    assert back.SourceInstanceSequence[0].ReferencedSOPInstanceUID == uid
    assert window.statusBar().currentMessage() == "Signed report and its PDF stored on Orthanc"
    assert window.problems.messages() == []
    # Store Marks knows this revision is on the node: nothing new to send.
    assert window.settings.text(f"{STORED_KEY}/{study}") == f"Orthanc\n{uid}"
    assert window.named_actions["store_marks"].text() == "Marks Stored to PACS (nothing new)"


def test_yes_by_c_store_with_the_pdf_file(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path, orthanc: OrthancServer
) -> None:
    orthanc.clear()
    node = NodeSettings(
        "Orthanc DIMSE", NodeKind.DIMSE, called_ae=ORTHANC_AE, host="127.0.0.1",
        port=orthanc.dicom_port,
    )  # fmt: skip
    window, folder, study, asked = signed_window(open_window, tmp_path, node)
    report = tmp_path / "report.pdf"
    report.write_bytes(tiny_pdf(odd=False))

    window.pacs.offer_signed_store(study, report)
    assert asked.questions == [signed_store_question("Orthanc DIMSE")]
    result = answer_yes(qtbot, window, asked)

    assert result is not None and len(result.stored) == 2
    classes = sorted(found[0] for found in on_pacs(orthanc.dicomweb_url, study).values())
    assert classes == sorted([ComprehensiveSRStorage, EncapsulatedPDFStorage])
    assert sr_uid(folder, study) in result.stored
    assert window.statusBar().currentMessage() == (
        "Signed report and its PDF stored on Orthanc DIMSE"
    )


def test_no_sends_nothing_and_without_a_node_nothing_is_asked(
    open_window: OpenWindow, tmp_path: Path, orthanc: OrthancServer
) -> None:
    bare, _folder, study, asked = signed_window(open_window, tmp_path / "a", None)
    bare.pacs.offer_signed_store(study, tiny_pdf())
    assert asked.questions == []
    assert bare.problems.messages() == []

    orthanc.clear()
    node = NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url)
    window, _folder, study, asked = signed_window(open_window, tmp_path / "b", node)
    finished: list[object] = []
    window.pacs.signed_store_finished.connect(finished.append)
    window.pacs.offer_signed_store(study, tiny_pdf())
    assert asked.answer is not None
    asked.answer(False)
    assert not window.status.progress.isVisible()  # no store started (it shows at once)
    assert finished == []
    assert orthanc.instance_count() == 0
    assert window.settings.text(f"{STORED_KEY}/{study}") == ""
    assert window.problems.messages() == []
    for each in (window, bare):  # asked on closing: the signed revision is not on the node
        each.pacs.ask_store = close_without_storing


def test_an_unsigned_revision_or_a_bad_pdf_is_one_problem_and_nothing_asked(
    open_window: OpenWindow, tmp_path: Path, orthanc: OrthancServer
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    unsigned, draft_study, _finding, _report = study_with_report(open_window, tmp_path / "a", None)
    signed, study, _finding, _report = study_with_report(open_window, tmp_path / "b", SIGNATURE)
    node = NodeSettings("Orthanc", NodeKind.DICOMWEB, url=orthanc.dicomweb_url)

    draft, asked = window_on(open_window, unsigned, node)
    draft.pacs.offer_signed_store(draft_study, tiny_pdf())
    (line,) = draft.problems.messages()
    assert line.endswith(": report not stored on Orthanc: the saved revision is not signed")
    target = draft.saver.target(draft_study)
    assert target is not None and line.startswith(f"{target.path.name}: ")
    assert asked.questions == []

    window, asked = window_on(open_window, signed, node)
    missing = tmp_path / "missing.pdf"
    window.pacs.offer_signed_store(study, missing)
    (line,) = window.problems.messages()
    assert line.startswith(f"{missing.name}: report PDF not stored on Orthanc: cannot be read")
    assert asked.questions == []
    for each in (window, draft):
        each.pacs.ask_store = close_without_storing


def test_a_store_that_cannot_connect_is_one_problem_naming_the_node(
    open_window: OpenWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    url = f"http://127.0.0.1:{free_port()}/dicom-web"
    node = NodeSettings("Down", NodeKind.DICOMWEB, url=url)
    window, _folder, study, asked = signed_window(open_window, tmp_path, node)
    window.pacs.offer_signed_store(study, tiny_pdf())
    assert answer_yes(qtbot, window, asked) is None
    (line,) = window.problems.messages()
    assert line.startswith(f"Down: signed report and its PDF not stored: {url}: ")
    assert line.endswith("cannot connect (connection refused)")
    assert window.statusBar().currentMessage() == (
        "Signed report and its PDF not stored on Down (see Problems)"
    )
    assert window.settings.text(f"{STORED_KEY}/{study}") == ""
    window.pacs.ask_store = close_without_storing


def test_the_real_question_does_not_block_and_answers_each_button(qtbot: QtBot) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    answers: list[bool] = []
    for button, expected in (("Store", True), ("Not Now", False)):
        box = ask_signed_store_with_dialog(parent, signed_store_question("PACS"), answers.append)
        assert box.isVisible()  # returned while the question is shown: nothing waited
        assert box.text() == "Store the signed report and its PDF on PACS?"
        assert sorted(b.text() for b in box.buttons()) == ["Not Now", "Store"]
        assert box.defaultButton().text() == "Store"
        with qtbot.waitSignal(box.finished):
            next(b for b in box.buttons() if b.text() == button).click()
        assert answers[-1] is expected
    assert answers == [True, False]
    assert isinstance(box, QMessageBox)
