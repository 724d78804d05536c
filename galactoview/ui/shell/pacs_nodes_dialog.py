"""Settings → PACS Nodes: the DICOMweb and DIMSE nodes, their secrets, Test Connection.

:class:`PacsNodes` reads and writes the configured nodes
(:class:`~galactoview.pacs.configured.NodeSettings`, JSON in one settings value, never a
secret) and the default node "Store Marks to PACS" sends to; secrets go through a
:class:`~galactoview.pacs.configured.SecretStore` (the OS keyring, else this session).

:class:`PacsNodesDialog` lists the nodes; add (DICOMweb or DIMSE), edit, remove; each
kind has its fields (DICOMweb: base URL, no / HTTP Basic / bearer-token authentication,
TLS certificate verification on by default; DIMSE: called AE, host, port, our calling
AE, our storage SCP port for C-MOVE). Every edit is checked at once (a wrong field is
named under the form and Save is disabled). **Test Connection** runs a QIDO-RS search
(PS3.18 10.6) or a C-ECHO (PS3.7 9.1.5) in a pool thread (:class:`BackgroundCall`): the
window never waits for the network, and the one-line result is shown under the button.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from galactoview.pacs.configured import (
    NodeKind,
    NodeSettings,
    SecretStore,
    dumps_nodes,
    environment_nodes,
    loads_nodes,
    unique_name,
)
from galactoview.pacs.nodes import (
    DEFAULT_CALLING_AE,
    DEFAULT_TIMEOUT_S,
    AuthKind,
    DimseNode,
    NodeError,
)
from galactoview.ui.background import BackgroundCall
from galactoview.ui.shell.settings import Settings

__all__ = ["PacsNodes", "PacsNodesDialog", "echo"]

#: Settings keys: the nodes (JSON list, no secrets) and the name of the default node.
NODES_KEY: Final = "pacs/nodes"
DEFAULT_KEY: Final = "pacs/default_node"

_AUTH_TEXTS: Final = {
    AuthKind.NONE: "None",
    AuthKind.BASIC: "HTTP Basic (user, password)",
    AuthKind.BEARER: "Bearer token",
}


class PacsNodes:
    """The configured PACS nodes: in the settings (no secrets) and the secret store.

    Parameters
    ----------
    settings
        Where the nodes are kept.
    secrets
        Where their passwords and tokens are kept; the OS keyring's when None.
    """

    def __init__(self, settings: Settings, secrets: SecretStore | None = None) -> None:
        self.settings = settings
        self.secrets = secrets if secrets is not None else SecretStore()

    def nodes(self) -> tuple[list[NodeSettings], list[str]]:
        """Return the nodes, and one line per unusable entry of the setting (left out)."""
        return loads_nodes(self.settings.text(NODES_KEY, ""))

    def default(self) -> NodeSettings | None:
        """Return the node to store to: the one chosen, else the first, else None.

        With no node configured, the one the environment names for a quick try
        (``GALACTOVIEW_PACS_URL``, as ``make run-pacs`` sets it; see
        :func:`galactoview.pacs.configured.environment_nodes`), so the PACS a study was
        just retrieved from takes its marks without a trip to Edit → PACS Nodes….
        """
        nodes, _ = self.nodes()
        chosen = self.settings.text(DEFAULT_KEY, "")
        found = next((n for n in nodes if n.name == chosen), nodes[0] if nodes else None)
        return found if found is not None else next(iter(environment_nodes()), None)

    def save(self, nodes: list[NodeSettings], default: str) -> None:
        """Keep the nodes and the default node's name (secrets go through :attr:`secrets`)."""
        self.settings.set(NODES_KEY, dumps_nodes(nodes))
        self.settings.set(DEFAULT_KEY, default)


def echo(node: NodeSettings, secret: str) -> str:
    """Test a node: QIDO-RS (PS3.18 10.6) or C-ECHO (PS3.7 9.1.5); return the result line.

    Raises
    ------
    NodeError, dicomweb.DicomWebError, dimse.DimseError
        The node is unusable or did not answer; the message names it.
    """
    # The clients (requests, dicomweb-client, pynetdicom: ~0.5 s to import) are imported
    # when a node is used, not when the window starts.
    from galactoview.pacs import dicomweb, dimse

    target = node.to_node(secret)
    if isinstance(target, DimseNode):
        peer = dimse.echo(target)
        return f"{target}: C-ECHO succeeded" + (f" ({peer})" if peer else "")
    dicomweb.echo(target)
    return f"{target}: QIDO-RS search answered"


@dataclass
class _Entry:
    """A node being edited: the form's values, its secret, the name it was saved under."""

    kind: NodeKind
    values: dict[str, Any]
    secret: str = ""
    saved_name: str | None = None
    error: str = field(default="")

    def node(self) -> NodeSettings:
        """Return the node the values describe (raises NodeError)."""
        return NodeSettings(kind=self.kind, **self.values)


def _values(node: NodeSettings) -> dict[str, Any]:
    return {
        "name": node.name,
        "url": node.url,
        "auth": node.auth,
        "username": node.username,
        "verify_tls": node.verify_tls,
        "called_ae": node.called_ae,
        "host": node.host,
        "port": node.port,
        "calling_ae": node.calling_ae,
        "storage_scp_port": node.storage_scp_port,
        "timeout_s": node.timeout_s,
    }


def _new_values(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "url": "",
        "auth": AuthKind.NONE,
        "username": "",
        "verify_tls": True,
        "called_ae": "",
        "host": "",
        "port": 104,
        "calling_ae": DEFAULT_CALLING_AE,
        "storage_scp_port": None,
        "timeout_s": DEFAULT_TIMEOUT_S,
    }


class PacsNodesDialog(QDialog):
    """Edit the PACS nodes; Save keeps them (see the module docstring).

    Parameters
    ----------
    nodes
        The configured nodes and their secret store.
    parent
        The window.

    Signals
    -------
    test_finished(bool, str)
        A Test Connection is over: whether it succeeded, and the line shown.
    """

    test_finished = Signal(bool, str)

    def __init__(self, nodes: PacsNodes, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PacsNodesDialog")
        self.setWindowTitle("PACS Nodes")
        self._config = nodes
        self._entries: list[_Entry] = []
        self._removed: list[str] = []
        self._filling = False
        self._tester = BackgroundCall(self)
        self._tester.done.connect(self._on_tested)
        self._build()
        loaded, problems = nodes.nodes()
        for node in loaded:
            secret = (nodes.secrets.get(node.name) or "") if node.needs_secret else ""
            self._entries.append(_Entry(node.kind, _values(node), secret, node.name))
            self.list.addItem(node.name)
        self.problem_label.setText("\n".join(problems + nodes.secrets.take_problems()))
        self._fill_default(nodes.settings.text(DEFAULT_KEY, ""))
        if self._entries:
            self.list.setCurrentRow(0)
        self._show_current()

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.list = QListWidget(self)
        self.list.setObjectName("NodeList")
        self.list.currentRowChanged.connect(lambda _row: self._show_current())
        self.add_dicomweb_button = QPushButton("Add &DICOMweb", self)
        self.add_dimse_button = QPushButton("Add DI&MSE", self)
        self.remove_button = QPushButton("&Remove", self)
        self.add_dicomweb_button.clicked.connect(lambda: self.add_node(NodeKind.DICOMWEB))
        self.add_dimse_button.clicked.connect(lambda: self.add_node(NodeKind.DIMSE))
        self.remove_button.clicked.connect(self.remove_current)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        for button in (self.add_dicomweb_button, self.add_dimse_button, self.remove_button):
            left.addWidget(button)

        self.name_edit = QLineEdit(self)
        self.kind_label = QLabel(self)
        common = QFormLayout()
        common.addRow("&Name:", self.name_edit)
        common.addRow("Kind:", self.kind_label)

        self.url_edit = QLineEdit(self)
        self.url_edit.setPlaceholderText("https://pacs.example.org/dicom-web")
        self.auth_combo = QComboBox(self)
        for kind, text in _AUTH_TEXTS.items():
            self.auth_combo.addItem(text, kind)
        self.user_edit = QLineEdit(self)
        self.secret_edit = QLineEdit(self)
        self.secret_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.verify_check = QCheckBox("&Verify the server's TLS certificate", self)
        self.web_group = QGroupBox("DICOMweb", self)
        web = QFormLayout(self.web_group)
        web.addRow("Base &URL:", self.url_edit)
        web.addRow("&Authentication:", self.auth_combo)
        web.addRow("U&ser:", self.user_edit)
        web.addRow("&Password / token:", self.secret_edit)
        web.addRow("", self.verify_check)

        self.called_edit = QLineEdit(self)
        self.host_edit = QLineEdit(self)
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1, 65535)
        self.calling_edit = QLineEdit(self)
        self.scp_port_spin = QSpinBox(self)
        self.scp_port_spin.setRange(0, 65535)
        self.scp_port_spin.setSpecialValueText("none (C-GET only)")
        self.dimse_group = QGroupBox("DIMSE", self)
        dimse_form = QFormLayout(self.dimse_group)
        dimse_form.addRow("Called &AE title:", self.called_edit)
        dimse_form.addRow("&Host:", self.host_edit)
        dimse_form.addRow("P&ort:", self.port_spin)
        dimse_form.addRow("Our &calling AE title:", self.calling_edit)
        dimse_form.addRow("Our storage SCP port (C-MOVE):", self.scp_port_spin)

        self.timeout_spin = QDoubleSpinBox(self)
        self.timeout_spin.setRange(1.0, 600.0)
        self.timeout_spin.setSuffix(" s")
        timeout_form = QFormLayout()
        timeout_form.addRow("&Timeout:", self.timeout_spin)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("NodeError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #d9534f;")
        self.test_button = QPushButton("&Test Connection", self)
        self.test_button.clicked.connect(self.test_connection)
        self.test_label = QLabel(self)
        self.test_label.setObjectName("TestResult")
        self.test_label.setWordWrap(True)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_label, 1)

        right = QVBoxLayout()
        right.addLayout(common)
        right.addWidget(self.web_group)
        right.addWidget(self.dimse_group)
        right.addLayout(timeout_form)
        right.addWidget(self.error_label)
        right.addLayout(test_row)
        right.addStretch(1)
        self.form = QWidget(self)
        self.form.setLayout(right)

        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addWidget(self.form, 2)

        self.default_combo = QComboBox(self)
        self.default_combo.setObjectName("DefaultNode")
        default_form = QFormLayout()
        default_form.addRow("Store marks &to:", self.default_combo)
        keyring_note = (
            "Passwords and tokens are kept in the OS keyring, never in the settings file."
            if self._config.secrets.persistent
            else "No OS keyring is available: passwords and tokens are kept until "
            "GalactoView quits, and asked for again next time."
        )
        self.keyring_label = QLabel(keyring_note, self)
        self.keyring_label.setWordWrap(True)
        self.problem_label = QLabel(self)
        self.problem_label.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addLayout(default_form)
        layout.addWidget(self.keyring_label)
        layout.addWidget(self.problem_label)
        layout.addWidget(self.buttons)

        for edit in (
            self.name_edit,
            self.url_edit,
            self.user_edit,
            self.secret_edit,
            self.called_edit,
            self.host_edit,
            self.calling_edit,
        ):
            edit.textEdited.connect(lambda _text: self._form_changed())
        self.auth_combo.currentIndexChanged.connect(lambda _i: self._form_changed())
        self.verify_check.toggled.connect(lambda _on: self._form_changed())
        for spin in (self.port_spin, self.scp_port_spin, self.timeout_spin):
            spin.valueChanged.connect(lambda _v: self._form_changed())

    # --- entries --------------------------------------------------------------------------

    def current(self) -> _Entry | None:
        """Return the node being edited."""
        row = self.list.currentRow()
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def add_node(self, kind: NodeKind) -> None:
        """Add a node of a kind, selected for editing."""
        base = "DICOMweb PACS" if kind is NodeKind.DICOMWEB else "DIMSE PACS"
        name = unique_name(base, (e.values["name"] for e in self._entries))
        self._entries.append(_Entry(kind, _new_values(name)))
        self.list.addItem(name)
        self.list.setCurrentRow(len(self._entries) - 1)
        self._form_changed()
        self.name_edit.setFocus()

    def remove_current(self) -> None:
        """Remove the node being edited (its secret is dropped on Save)."""
        row = self.list.currentRow()
        if not 0 <= row < len(self._entries):
            return
        entry = self._entries.pop(row)
        if entry.saved_name is not None:
            self._removed.append(entry.saved_name)
        self.list.takeItem(row)
        self._refresh_default()
        self._show_current()

    def _show_current(self) -> None:
        """Put the current node's values in the form."""
        entry = self.current()
        self.form.setEnabled(entry is not None)
        self.remove_button.setEnabled(entry is not None)
        self.test_label.clear()
        if entry is None:
            self.error_label.clear()
            self._update_buttons()
            return
        values = entry.values
        self._filling = True
        try:
            web = entry.kind is NodeKind.DICOMWEB
            self.kind_label.setText("DICOMweb (PS3.18)" if web else "DIMSE (PS3.7)")
            self.web_group.setVisible(web)
            self.dimse_group.setVisible(not web)
            self.name_edit.setText(values["name"])
            self.url_edit.setText(values["url"])
            self.auth_combo.setCurrentIndex(list(_AUTH_TEXTS).index(values["auth"]))
            self.user_edit.setText(values["username"])
            self.secret_edit.setText(entry.secret)
            self.verify_check.setChecked(values["verify_tls"])
            self.called_edit.setText(values["called_ae"])
            self.host_edit.setText(values["host"])
            self.port_spin.setValue(values["port"] or 104)
            self.calling_edit.setText(values["calling_ae"])
            self.scp_port_spin.setValue(values["storage_scp_port"] or 0)
            self.timeout_spin.setValue(values["timeout_s"])
        finally:
            self._filling = False
        self._enable_auth_fields()
        self._validate(entry)

    def _form_changed(self) -> None:
        """Take the form's values into the current node and check them."""
        entry = self.current()
        if entry is None or self._filling:
            return
        auth = self.auth_combo.currentData()
        entry.values.update(
            name=self.name_edit.text(),
            url=self.url_edit.text(),
            auth=auth,
            username=self.user_edit.text() if auth is AuthKind.BASIC else "",
            verify_tls=self.verify_check.isChecked(),
            called_ae=self.called_edit.text(),
            host=self.host_edit.text(),
            port=self.port_spin.value(),
            calling_ae=self.calling_edit.text(),
            storage_scp_port=self.scp_port_spin.value() or None,
            timeout_s=self.timeout_spin.value(),
        )
        entry.secret = self.secret_edit.text() if auth is not AuthKind.NONE else ""
        item = self.list.currentItem()
        if item is not None:
            item.setText(entry.values["name"].strip() or "(no name)")
        self._enable_auth_fields()
        self._validate(entry)
        self._refresh_default()

    def _enable_auth_fields(self) -> None:
        auth = self.auth_combo.currentData()
        self.user_edit.setEnabled(auth is AuthKind.BASIC)
        self.secret_edit.setEnabled(auth is not AuthKind.NONE)

    def _validate(self, entry: _Entry) -> None:
        try:
            node = entry.node()
            if node.kind is NodeKind.DICOMWEB and node.auth is AuthKind.BEARER:
                node.to_node(entry.secret or "placeholder")
            names = [e.values["name"].strip() for e in self._entries]
            entry.error = (
                f"the name {node.name!r} is used by another node"
                if names.count(node.name) > 1
                else ""
            )
        except NodeError as error:
            entry.error = str(error)
        self.error_label.setText(entry.error)
        self._update_buttons()

    def _update_buttons(self) -> None:
        entry = self.current()
        self.test_button.setEnabled(entry is not None and not entry.error)
        save = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setEnabled(all(not e.error for e in self._entries))

    def _fill_default(self, chosen: str) -> None:
        self.default_combo.clear()
        for entry in self._entries:
            self.default_combo.addItem(entry.values["name"].strip())
        index = self.default_combo.findText(chosen)
        self.default_combo.setCurrentIndex(max(index, 0))

    def _refresh_default(self) -> None:
        self._fill_default(self.default_combo.currentText())

    # --- test connection ----------------------------------------------------------------------

    def test_connection(self) -> None:
        """Test the current node in a pool thread; the result comes to :attr:`test_finished`."""
        entry = self.current()
        if entry is None or entry.error:
            return
        node = entry.node()
        secret = entry.secret
        if node.needs_secret and not secret:
            self._on_tested(False, f"{node.address()}: give the password or token first")
            return
        self.test_button.setEnabled(False)
        self.test_label.setText(f"Testing {node.address()}…")
        self._tester.start(lambda: echo(node, secret))

    def _on_tested(self, ok: bool, value: object) -> None:
        text = str(value)
        self.test_label.setText(("✔ " if ok else "✘ ") + text)
        self.test_label.setStyleSheet("" if ok else "color: #d9534f;")
        self._update_buttons()
        self.test_finished.emit(ok, text)

    # --- saving -----------------------------------------------------------------------------

    def node_settings(self) -> list[NodeSettings]:
        """Return the nodes as edited (raises NodeError if one is unusable)."""
        return [entry.node() for entry in self._entries]

    def save(self) -> None:
        """Keep the nodes in the settings and their secrets in the store, and close."""
        try:
            nodes = self.node_settings()
        except NodeError as error:
            self.error_label.setText(str(error))
            return
        secrets = self._config.secrets
        kept = {node.name for node in nodes}
        for name in self._removed:
            if name not in kept:
                secrets.forget(name)
        for entry, node in zip(self._entries, nodes, strict=True):
            if entry.saved_name is not None and entry.saved_name != node.name:
                secrets.forget(entry.saved_name)
            if node.needs_secret and entry.secret:
                secrets.put(node.name, entry.secret)
            elif not node.needs_secret:
                secrets.forget(node.name)
            entry.saved_name = node.name
        self._config.save(nodes, self.default_combo.currentText())
        self.accept()  # keyring problems stay in the store for the window to report
