"""PacsPanelDock: the Query/Retrieve panel — search a PACS, retrieve a study, open it.

A dock in the reading-room style of the study browser: a node chooser, the search
fields (patient name and ID, accession number, study date range, modality — MG by
default — and study description), the results as a tree study → series with their
instance counts, and **Retrieve Study** / **Retrieve Selected Series** with a
per-instance progress bar, **Cancel** and the instances that failed, each with its
reason (also sent to the Problems panel).

Every network call runs in a worker thread of the panel's own pool
(:class:`_Search`, :class:`_Retrieve`); they report through :class:`TransferRelay`'s
signals, delivered queued in the GUI thread, so the window never waits for the PACS.
A retrieve goes into the per-user cache (:class:`~galactoview.pacs.cache.RetrieveCache`,
one folder per study), exactly as ``galactoview pacs get`` writes a study folder, by
:func:`~galactoview.pacs.fetch.fetch_study`: the study's SRs first (their newest revision
becomes the study's sidecar), then the instance of the hanging protocol's first cell,
then the rest (WADO-RS, PS3.18 10.4; C-GET / C-MOVE, PS3.4 C.6.2). The study is
**streamed into the window** (:class:`~galactoview.ui.browser.streaming_open.StreamingOpen`):
it opens as soon as that first instance is in, with the radiologist's marks, and the
other instances are added as they arrive without disturbing the reader. When it hangs
as a galactography, its priors are listed and the newest fetched in the background
(:class:`~galactoview.ui.browser.prior_fetch.PriorFetch`). The unsaved-marks question
is asked once, before the retrieve starts.

Nodes come from a provider, any callable returning ``(name, node)`` pairs: in the
window, :func:`configured_nodes` — the nodes of Edit → PACS Nodes… followed by those
:func:`environment_nodes` reads from ``GALACTOVIEW_PACS_URL`` (a DICOMweb base URL) and
``GALACTOVIEW_PACS_DIMSE`` (``AET@HOST:PORT``) for a quick try.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QDate, QEvent, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDockWidget,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from galactoview.dicom.person_name import format_person_name
from galactoview.pacs import configured
from galactoview.pacs.cache import RetrieveCache, limit_from_environment
from galactoview.pacs.fetch import Fetched, fetch_study
from galactoview.pacs.fetch import protocol_of as _protocol
from galactoview.pacs.nodes import (
    DicomWebNode,
    DimseNode,
)
from galactoview.pacs.results import RetrieveProgress, StudyMatch
from galactoview.ui.browser.prior_fetch import PriorFetch
from galactoview.ui.browser.streaming_open import StreamingOpen, StudyWindow
from galactoview.ui.browser.study_browser import format_dicom_date
from galactoview.ui.shell.pacs_nodes_dialog import PacsNodes
from galactoview.ui.shell.status_bar import set_progress

if TYPE_CHECKING:
    from galactoview.ui.shell.main_window import MainWindow

__all__ = [
    "DIMSE_ENVIRONMENT",
    "URL_ENVIRONMENT",
    "Fetched",
    "NodeEntry",
    "NodesProvider",
    "PacsPanelDock",
    "TransferRelay",
    "configured_nodes",
    "environment_nodes",
    "fetch_study",
    "show_for",
]

URL_ENVIRONMENT: Final = configured.URL_ENVIRONMENT
DIMSE_ENVIRONMENT: Final = configured.DIMSE_ENVIRONMENT

PacsNode = DicomWebNode | DimseNode
#: A node as the chooser lists it: its name and what it is.
NodeEntry = tuple[str, PacsNode]
#: Gives the nodes to choose from (called each time the panel is shown or searches).
NodesProvider = Callable[[], Sequence[NodeEntry]]

_STUDY_ROLE: Final = Qt.ItemDataRole.UserRole
_SERIES_ROLE: Final = Qt.ItemDataRole.UserRole + 1
#: Columns of the results tree.
_COLUMNS: Final = ("Patient / series", "Date", "Description", "Modality", "Instances")
#: Widest the name and description columns start (their text is elided, the tooltip whole).
_WIDEST_COLUMN_PX: Final = 180


def configured_nodes(config: PacsNodes) -> NodesProvider:
    """Return a provider of the nodes set in Edit → PACS Nodes…, then the environment's.

    Secrets come from the node configuration's secret store (the OS keyring, or those
    given this session); a node whose secret is unknown is offered without one, and the
    PACS's refusal names it when it is used.
    """

    def provide() -> list[NodeEntry]:
        nodes, _problems = config.nodes()  # the problems are shown by the nodes dialog
        entries: list[NodeEntry] = [
            (
                node.name,
                node.to_node((config.secrets.get(node.name) or "") if node.needs_secret else ""),
            )
            for node in nodes
        ]
        known = {str(node) for _name, node in entries}
        extra = [(name, node) for name, node in environment_nodes() if str(node) not in known]
        return entries + extra  # the same PACS configured and in the environment: once

    return provide


def environment_nodes(environ: Mapping[str, str] | None = None) -> list[NodeEntry]:
    """Return the nodes named by :data:`URL_ENVIRONMENT` and :data:`DIMSE_ENVIRONMENT`.

    A value that is not a usable node is left out (the panel says there is no node).
    """
    return [(node.name, node.to_node()) for node in configured.environment_nodes(environ)]


class TransferRelay(QObject):
    """Carries what the panel's worker threads report to the GUI thread.

    Signals
    -------
    searched(object, object)
        The node searched and its studies (a tuple of :class:`StudyMatch`), or the
        node and its one-line error (a ``str``).
    progressed(object)
        A :class:`RetrieveProgress` after each instance (emitted in the worker thread).
    arrived(object)
        The path of each complete image file, as soon as it is in the cache.
    fetched(object)
        The :class:`Fetched` of a retrieve that is over.
    """

    searched = Signal(object, object)
    progressed = Signal(object)
    arrived = Signal(object)
    fetched = Signal(object)


class _Search(QRunnable):
    def __init__(self, node: PacsNode, keys: dict[str, str], relay: TransferRelay) -> None:
        super().__init__()
        self._node, self._keys, self._relay = node, keys, relay

    def run(self) -> None:
        protocol, _how, node_errors = _protocol(self._node)
        try:
            found: object = tuple(protocol.find_studies(self._node, **self._keys))
        except node_errors as error:
            found = str(error)
        self._relay.searched.emit(self._node, found)


class RetrieveJob(QRunnable):
    """One retrieve in a worker thread; :meth:`cancel` may be called from any thread."""

    def __init__(
        self,
        node: PacsNode,
        study_uid: str,
        series: Sequence[str] | None,
        cache: RetrieveCache,
        relay: TransferRelay,
        node_name: str = "",
    ) -> None:
        super().__init__()
        self.node, self.study_uid, self.series = node, study_uid, series
        self._cache, self._relay, self._node_name = cache, relay, node_name
        self._cancelled = threading.Event()

    def cancel(self) -> None:
        """Stop before the next instance (thread-safe; no half file is left)."""
        self._cancelled.set()

    def run(self) -> None:
        fetched = fetch_study(
            self.node,
            self.study_uid,
            self._cache,
            series=self.series,
            progress=self._relay.progressed.emit,
            arrived=self._relay.arrived.emit,
            cancel=self._cancelled.is_set,
            node_name=self._node_name,
        )
        self._relay.fetched.emit(fetched)


def _count(value: int | None) -> str:
    return "?" if value is None else str(value)


class PacsPanelDock(QDockWidget):
    """The Query/Retrieve panel (see the module docstring).

    Parameters
    ----------
    nodes
        Gives the nodes to choose from.
    cache
        Where studies are retrieved to.
    window
        The window a retrieved study is streamed into (``None``: retrieve only).
    confirm_leave
        Asks whether what is open may be replaced (the unsaved-marks guard); called
        before a retrieve starts.
    report
        Sends a problem line to the Problems panel (``ProblemReporter.report``).
    parent
        Parent widget.

    Signals
    -------
    search_finished()
        A search is over (results or an error shown).
    retrieve_finished(object)
        A retrieve is over: its :class:`Fetched`.
    study_shown(object)
        After :attr:`retrieve_finished`: every instance that arrived is shown in the
        window (or never will be: nothing arrived, or another study was opened); the
        same :class:`Fetched`.
    """

    search_finished = Signal()
    retrieve_finished = Signal(object)
    study_shown = Signal(object)

    def __init__(
        self,
        nodes: NodesProvider = environment_nodes,
        cache: RetrieveCache | None = None,
        window: StudyWindow | None = None,
        confirm_leave: Callable[[], bool] | None = None,
        report: Callable[[str], object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("Query/Retrieve", parent)
        self.setObjectName("PacsPanelDock")
        self._nodes_provider = nodes
        self.cache = cache if cache is not None else RetrieveCache()
        self._window = window
        self._confirm_leave = confirm_leave
        self._report = report
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(3)  # a search, a retrieve and a prior's retrieve
        self.streaming: StreamingOpen | None = None
        self.prior = PriorFetch(
            self.pool,
            self.cache,
            window.add_paths if window is not None else lambda _paths: None,
            (lambda: window.records) if window is not None else tuple,
            self,
        )
        self.transfer = TransferRelay(self)
        self.transfer.searched.connect(self._on_searched)
        self.transfer.progressed.connect(self._on_progress)
        self.transfer.arrived.connect(self._on_arrived)
        self.transfer.fetched.connect(self._on_fetched)
        self.current_job: RetrieveJob | None = None
        self._searching = False
        self._build()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        if parent is not None:  # the window closing stops the retrieve (its pool waits)
            parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        """Cancel the retrieve once the window has closed (a close may be refused)."""
        if watched is self.parent() and event.type() == QEvent.Type.Close:
            QTimer.singleShot(0, self._cancel_if_closed)
        return False

    def _cancel_if_closed(self) -> None:
        window = self.parentWidget()
        if window is not None and not window.isVisible():
            self.shutdown()

    # --- widgets ---------------------------------------------------------------------

    def _build(self) -> None:
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.node_combo = QComboBox(body)
        self.node_combo.setObjectName("PacsNode")
        form = QFormLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("PACS", self.node_combo)
        self.patient_name = QLineEdit(body)
        self.patient_name.setPlaceholderText("FAMILY^GIVEN, * and ? wildcards")
        self.patient_id = QLineEdit(body)
        self.accession = QLineEdit(body)
        self.description = QLineEdit(body)
        self.modality = QLineEdit("MG", body)
        self.modality.setPlaceholderText("any")
        dates = QHBoxLayout()
        self.use_dates = QCheckBox("from", body)
        self.date_from = QDateEdit(QDate.currentDate().addYears(-1), body)
        self.date_to = QDateEdit(QDate.currentDate(), body)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setEnabled(False)
            self.use_dates.toggled.connect(edit.setEnabled)
        dates.addWidget(self.use_dates)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("to", body))
        dates.addWidget(self.date_to)
        form.addRow("Patient name", self.patient_name)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Accession", self.accession)
        form.addRow("Study date", dates)
        form.addRow("Modality", self.modality)
        form.addRow("Description", self.description)
        layout.addLayout(form)
        for line in (self.patient_name, self.patient_id, self.accession, self.description):
            line.returnPressed.connect(self.search)
        self.search_button = QPushButton("&Search", body)
        self.search_button.clicked.connect(self.search)
        layout.addWidget(self.search_button)
        self.results = QTreeWidget(body)
        self.results.setObjectName("PacsResults")
        self.results.setColumnCount(len(_COLUMNS))
        self.results.setHeaderLabels(list(_COLUMNS))
        self.results.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.results.setAlternatingRowColors(True)
        self.results.itemSelectionChanged.connect(self._update_buttons)
        self.results.itemDoubleClicked.connect(lambda *_: self.retrieve_study())
        layout.addWidget(self.results, 1)
        buttons = QHBoxLayout()
        self.retrieve_study_button = QPushButton("Retrieve S&tudy", body)
        self.retrieve_study_button.clicked.connect(lambda: self.retrieve_study())
        self.retrieve_series_button = QPushButton("Retrieve Selected Se&ries", body)
        self.retrieve_series_button.clicked.connect(lambda: self.retrieve_selected_series())
        self.cancel_button = QPushButton("&Cancel", body)
        self.cancel_button.clicked.connect(self.cancel)
        for button in (
            self.retrieve_study_button,
            self.retrieve_series_button,
            self.cancel_button,
        ):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.progress = QProgressBar(body)
        self.progress.setFormat("%v / %m instances")
        self.progress.setValue(0)
        self.progress.hide()
        layout.addWidget(self.progress)
        self.message = QLabel(body)
        self.message.setObjectName("PacsMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.prior_line = QLabel(body)
        self.prior_line.setObjectName("PacsPriors")
        self.prior_line.setWordWrap(True)
        self.prior_line.hide()
        self.prior.said.connect(self._say_prior)
        layout.addWidget(self.prior_line)
        self.errors = QListWidget(body)
        self.errors.setObjectName("PacsErrors")
        self.errors.setWordWrap(True)
        self.errors.setMaximumHeight(90)
        self.errors.hide()
        layout.addWidget(self.errors)
        self.setWidget(body)
        self._update_buttons()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt override)
        """List the nodes again each time the panel is shown (the settings may have changed)."""
        self.refresh_nodes()
        super().showEvent(event)

    def refresh_nodes(self) -> None:
        """Fill the node chooser from the provider, keeping the choice when still there."""
        chosen = self.node_combo.currentText()
        try:
            entries = list(self._nodes_provider())
        except Exception as error:  # a settings store that cannot be read: say so
            entries = []
            self._say(f"The PACS nodes cannot be read: {error}")
        self.node_combo.clear()
        for name, node in entries:
            self.node_combo.addItem(name, node)
        if chosen:
            self.node_combo.setCurrentIndex(max(0, self.node_combo.findText(chosen)))
        if not entries:
            self._say(
                f"No PACS node configured. Add one in Settings, or set {URL_ENVIRONMENT} "
                "to a DICOMweb base URL."
            )
        self._update_buttons()

    def node(self) -> PacsNode | None:
        """Return the node chosen, if any."""
        node = self.node_combo.currentData()
        return node if isinstance(node, DicomWebNode | DimseNode) else None

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def _update_buttons(self) -> None:
        busy = self.current_job is not None
        has_node = self.node() is not None
        self.search_button.setEnabled(has_node and not self._searching)
        self.retrieve_study_button.setEnabled(
            has_node and not busy and self._chosen_study() is not None
        )
        self.retrieve_series_button.setEnabled(
            has_node and not busy and bool(self._selected_series())
        )
        self.cancel_button.setEnabled(busy)

    # --- search ----------------------------------------------------------------------

    def search_keys(self) -> dict[str, str]:
        """Return the search fields as :func:`find_studies` keys (DICOM date range)."""
        study_date = ""
        if self.use_dates.isChecked():
            first = self.date_from.date().toString("yyyyMMdd")
            last = self.date_to.date().toString("yyyyMMdd")
            study_date = first if first == last else f"{first}-{last}"
        return {
            "patient_name": self.patient_name.text().strip(),
            "patient_id": self.patient_id.text().strip(),
            "accession_number": self.accession.text().strip(),
            "study_description": self.description.text().strip(),
            "modality": self.modality.text().strip().upper(),
            "study_date": study_date,
        }

    def search(self) -> None:
        """Search the chosen node in a worker thread; :attr:`search_finished` when over."""
        node = self.node()
        if node is None:
            self.refresh_nodes()
            node = self.node()
        if node is None or self._searching:
            return
        if self.use_dates.isChecked() and self.date_from.date() > self.date_to.date():
            self._say("The start date is after the end date.")
            return
        self._searching = True
        self._update_buttons()
        self._say(f"Searching {node}…")
        self.pool.start(_Search(node, self.search_keys(), self.transfer))

    def _on_searched(self, node: PacsNode, found: object) -> None:
        self._searching = False
        self.results.clear()
        if isinstance(found, str):
            self._say(found)
            self._problem(found)
        else:
            studies: tuple[StudyMatch, ...] = found  # type: ignore[assignment]
            for study in studies:
                self._add_study(study)
            self.results.expandAll()
            for column in range(len(_COLUMNS)):
                self.results.resizeColumnToContents(column)
                widest = _WIDEST_COLUMN_PX if column in (0, 2) else None
                if widest is not None and self.results.columnWidth(column) > widest:
                    self.results.setColumnWidth(column, widest)
            self._say(f"{len(studies)} studies on {node}")
        self._update_buttons()
        self.search_finished.emit()

    def _add_study(self, study: StudyMatch) -> None:
        name = format_person_name(study.patient_name) or "(no name)"
        who = f"{name} · {study.patient_id}" if study.patient_id else name
        item = QTreeWidgetItem(
            [
                who,
                format_dicom_date(study.study_date),
                study.study_description,
                ",".join(study.modalities),
                f"{_count(study.number_of_series)} series, "
                f"{_count(study.number_of_instances)} instances",
            ]
        )
        item.setData(0, _STUDY_ROLE, study)
        item.setToolTip(0, study.study_instance_uid)
        for column in range(1, len(_COLUMNS)):
            acc = f"Accession {study.accession_number}\n" if study.accession_number else ""
            item.setToolTip(column, f"{who}\n{acc}Study {study.study_instance_uid}")
        for series in study.series:
            number = "-" if series.series_number is None else str(series.series_number)
            child = QTreeWidgetItem(
                [
                    f"Series {number}",
                    "",
                    series.series_description,
                    series.modality,
                    _count(series.number_of_instances),
                ]
            )
            child.setData(0, _STUDY_ROLE, study)
            child.setData(0, _SERIES_ROLE, series.series_instance_uid)
            child.setToolTip(0, series.series_instance_uid)
            item.addChild(child)
        self.results.addTopLevelItem(item)

    # --- retrieve --------------------------------------------------------------------

    def _chosen_study(self) -> StudyMatch | None:
        item = self.results.currentItem()
        selected = self.results.selectedItems()
        if selected:
            item = selected[0]
        study = item.data(0, _STUDY_ROLE) if item is not None else None
        return study if isinstance(study, StudyMatch) else None

    def _selected_series(self) -> list[tuple[StudyMatch, str]]:
        chosen: list[tuple[StudyMatch, str]] = []
        for item in self.results.selectedItems():
            series, study = item.data(0, _SERIES_ROLE), item.data(0, _STUDY_ROLE)
            if isinstance(series, str) and isinstance(study, StudyMatch):
                chosen.append((study, series))
        return chosen

    def retrieve_study(self, study: StudyMatch | None = None) -> RetrieveJob | None:
        """Retrieve the chosen study (its image series) into the cache, then open it."""
        study = study if study is not None else self._chosen_study()
        if study is None:
            return None
        return self._start(study, None)

    def retrieve_selected_series(self) -> RetrieveJob | None:
        """Retrieve the selected series (of one study) into the cache, then open them."""
        chosen = self._selected_series()
        if not chosen:
            return None
        study = chosen[0][0]
        series = [
            uid for owner, uid in chosen if owner.study_instance_uid == study.study_instance_uid
        ]
        if len(series) < len(chosen):
            self._say(
                "Series of several studies are selected: only the first study's are retrieved."
            )
        return self._start(study, series)

    def _start(self, study: StudyMatch, series: list[str] | None) -> RetrieveJob | None:
        node = self.node()
        if node is None or self.current_job is not None:
            return None
        if self._confirm_leave is not None and not self._confirm_leave():
            return None  # unsaved marks the reader wants to keep open
        self.prior.cancel()  # the reader's retrieve comes first
        expected = study.number_of_instances
        if series is not None:
            counts = {s.series_instance_uid: s.number_of_instances for s in study.series}
            wanted = [counts.get(uid) for uid in series]
            expected = None if None in wanted else sum(c or 0 for c in wanted)
        elif study.number_of_instances is not None:  # the SRs come as marks, not images
            reports = sum(s.number_of_instances or 0 for s in study.series if s.modality == "SR")
            expected = study.number_of_instances - reports
        self.errors.clear()
        self.errors.hide()
        self.progress.setRange(0, max(expected or 0, 0))
        self.progress.setValue(0)
        self.progress.show()
        what = "study" if series is None else f"{len(series)} series"
        self._say(f"Retrieving {what} {study.study_instance_uid} from {node}…")
        uid = study.study_instance_uid
        job = RetrieveJob(
            node, uid, series, self.cache, self.transfer, self.node_combo.currentText()
        )
        job.setAutoDelete(False)  # the panel keeps it until it reports back
        self.current_job = job
        self._stop_streaming()
        if self._window is not None:
            self.streaming = StreamingOpen(self._window, uid, self.cache.study_folder(uid), self)
            self._window.pause_hanging_notes(
                f"Retrieving from {node}: images are added as they arrive…"
            )
        self._update_buttons()
        self.pool.start(job)
        return job

    def cancel(self) -> None:
        """Stop the retrieve after the instance on its way (no half file is left)."""
        if self.current_job is not None:
            self.current_job.cancel()
            self._say("Cancelling…")
            self.cancel_button.setEnabled(False)

    def shutdown(self) -> None:
        """Cancel what is running (the application quits); returns at once."""
        if self.current_job is not None:
            self.current_job.cancel()

    def _on_progress(self, step: RetrieveProgress) -> None:
        done = step.received + step.failed
        maximum = self.progress.maximum()
        if step.remaining is not None:
            maximum = done + step.remaining
        set_progress(self.progress, done, max(maximum, done))
        if step.error is not None:
            self._add_error(f"{step.sop_instance_uid or 'instance'}: {step.error}")

    def _on_arrived(self, path: Path) -> None:
        if self.streaming is not None:
            self.streaming.arrived(path)

    def _stop_streaming(self) -> None:
        if self.streaming is not None:
            self.streaming.disconnect_window()
            self.streaming.deleteLater()
            self.streaming = None

    def _say_prior(self, text: str) -> None:
        self.prior_line.setText(text)
        self.prior_line.show()

    def _add_error(self, line: str) -> None:
        if not self.errors.findItems(line, Qt.MatchFlag.MatchExactly):
            self.errors.addItem(line)
        self.errors.show()

    def _on_fetched(self, fetched: Fetched) -> None:
        job, self.current_job = self.current_job, None
        where = str(job.node) if job is not None else "PACS"
        result = fetched.result
        for failure in fetched.failures:
            self._add_error(str(failure))
            self._problem(f"{where}: {failure}")
        for line in fetched.messages:
            if not line.startswith("marks: ") and not line.startswith("PACS cache: "):
                self._problem(line)
        if fetched.error:
            self._say(fetched.error)
            self._problem(fetched.error)
        elif result is not None and result.cancelled:
            self._say(
                f"Cancelled: {len(result.written)} instances kept in the cache; "
                "Retrieve again to fetch the rest."
            )
        elif result is not None and not result.written:
            self._say(f"{where}: no instance of study {fetched.study_instance_uid} retrieved")
        elif result is not None:
            failed = f", {len(fetched.failures)} failed" if fetched.failures else ""
            marks = next((m for m in fetched.messages if m.startswith("marks: ")), "")
            with_marks = "with the newest revision of its marks" if marks else "no marks"
            self._say(f"{len(result.written)} instances retrieved{failed}, {with_marks}; opened.")
            self.message.setToolTip(marks.removeprefix("marks: "))
        if result is not None and result.written and (result.cancelled or fetched.failures):
            self._say(
                f"{self.message.text()} The study is incomplete: only the "
                f"{len(result.written)} instances that arrived are open."
            )
        self._update_buttons()
        self.retrieve_finished.emit(fetched)
        streaming = self.streaming
        if streaming is None or self._window is None:
            self.study_shown.emit(fetched)
            return
        window = self._window
        node, name = job.node if job is not None else None, self.node_combo.currentText()

        def shown() -> None:
            streaming.complete.disconnect(shown)
            window.pause_hanging_notes(None)
            if streaming is self.streaming and node is not None and streaming.opened:
                self.prior.start(node, name, fetched.study_instance_uid)
            self.study_shown.emit(fetched)

        streaming.complete.connect(shown)
        streaming.finish(fetched.openable)

    def _problem(self, line: str) -> None:
        if self._report is not None:
            self._report(line)


def show_for(window: MainWindow) -> PacsPanelDock:
    """Show the window's Query/Retrieve panel, made on first use (File → Query/Retrieve…)."""
    panel = window.findChild(PacsPanelDock)
    if panel is None:
        limit, problem = limit_from_environment()
        if problem is not None:
            window.problems.report(problem)
        panel = PacsPanelDock(
            configured_nodes(window.pacs.config),
            RetrieveCache(limit_bytes=limit),
            window,
            window.unsaved_guard.confirm_leave,
            window.problems.report,
            window,
        )
        assert isinstance(window, QMainWindow)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, panel)
    panel.show()
    panel.raise_()
    return panel
