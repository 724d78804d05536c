"""PACS nodes as the settings keep them, and their secrets in the OS keyring (Qt-free).

A configured node is a :class:`NodeSettings`: a name the reader chose, the kind
(DICOMweb, PS3.18; or DIMSE, PS3.7) and the fields of
:class:`~galactoview.pacs.nodes.DicomWebNode` / :class:`~galactoview.pacs.nodes.DimseNode`
**without the secret**. :func:`dumps_nodes` / :func:`loads_nodes` turn a list of them
into JSON text for one settings value (QSettings in the window); a value edited by hand
or written by another version never breaks start-up: each unusable entry becomes one
problem line and is left out.

Secrets (an HTTP Basic password, a bearer token) never go into the settings:
:class:`SecretStore` keeps them in the OS keyring (``keyring``) when a usable backend
exists (its priority is above 0, i.e. not ``keyring.backends.fail.Keyring``), else in
memory for this session only (the window asks for them again next time).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Final

from galactoview.pacs.nodes import (
    DEFAULT_CALLING_AE,
    DEFAULT_TIMEOUT_S,
    Auth,
    AuthKind,
    DicomWebNode,
    DimseNode,
    NodeError,
    parse_dicomweb_url,
    parse_dimse_address,
)

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "DIMSE_ENVIRONMENT",
    "KEYRING_SERVICE",
    "URL_ENVIRONMENT",
    "NodeKind",
    "NodeSettings",
    "SecretStore",
    "dumps_nodes",
    "environment_nodes",
    "loads_nodes",
    "unique_name",
]

#: Environment variable naming a DICOMweb node for a quick try (no settings needed).
URL_ENVIRONMENT: Final = "GALACTOVIEW_PACS_URL"
#: Environment variable naming a DIMSE node (``AET@HOST:PORT``).
DIMSE_ENVIRONMENT: Final = "GALACTOVIEW_PACS_DIMSE"

#: The keyring "service" under which node secrets are kept (the user name is the node's name).
KEYRING_SERVICE: Final = "GalactoView PACS"
#: Longest node name.
_MAX_NAME: Final = 64


class NodeKind(enum.Enum):
    """The protocol a node speaks."""

    #: QIDO-RS / WADO-RS / STOW-RS (PS3.18).
    DICOMWEB = "dicomweb"
    #: C-ECHO / C-FIND / C-GET / C-MOVE / C-STORE (PS3.4, PS3.7).
    DIMSE = "dimse"


@dataclass(frozen=True)
class NodeSettings:
    """One configured PACS node, without its secret.

    Parameters
    ----------
    name
        The reader's name for it (unique among the nodes; the keyring key of its secret).
    kind
        DICOMweb or DIMSE.
    url, auth, username, verify_tls
        DICOMweb: as :class:`~galactoview.pacs.nodes.DicomWebNode` and
        :class:`~galactoview.pacs.nodes.Auth` (the secret is kept apart).
    called_ae, host, port, calling_ae, storage_scp_port
        DIMSE: as :class:`~galactoview.pacs.nodes.DimseNode`.
    timeout_s
        Seconds to wait for a connection or an answer.

    Raises
    ------
    NodeError
        A field is unusable (the message says which, in one line).
    """

    name: str
    kind: NodeKind
    url: str = ""
    auth: AuthKind = AuthKind.NONE
    username: str = ""
    verify_tls: bool = True
    called_ae: str = ""
    host: str = ""
    port: int = 0
    calling_ae: str = DEFAULT_CALLING_AE
    storage_scp_port: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name:
            raise NodeError("a node needs a name")
        if len(name) > _MAX_NAME or any(not c.isprintable() for c in name):
            raise NodeError(f"the node name {name!r} is too long or has control characters")
        object.__setattr__(self, "name", name)
        checked = self.to_node("placeholder" if self.needs_secret else "")
        if isinstance(checked, DicomWebNode):
            object.__setattr__(self, "url", checked.url)
        else:
            object.__setattr__(self, "called_ae", checked.called_ae)
            object.__setattr__(self, "calling_ae", checked.calling_ae)

    @property
    def needs_secret(self) -> bool:
        """Whether the node logs in with a password or token (DICOMweb Basic or bearer)."""
        return self.kind is NodeKind.DICOMWEB and self.auth is not AuthKind.NONE

    def to_node(self, secret: str = "") -> DicomWebNode | DimseNode:
        """Return the node the PACS clients take, with its secret.

        Raises
        ------
        NodeError
            A field is unusable, or the secret is missing for a bearer token.
        """
        if self.kind is NodeKind.DICOMWEB:
            auth = Auth(self.auth, self.username if self.auth is AuthKind.BASIC else "", secret)
            return DicomWebNode(self.url, auth, self.verify_tls, self.timeout_s)
        return DimseNode(
            self.called_ae,
            self.host.strip(),
            self.port,
            self.calling_ae,
            self.storage_scp_port,
            self.timeout_s,
        )

    def address(self) -> str:
        """Return how messages name the node: its URL, or ``AET@HOST:PORT``."""
        return str(self.to_node("placeholder" if self.needs_secret else ""))

    def to_json(self) -> dict[str, Any]:
        """Return the fields of its kind as a JSON object (never a secret)."""
        data = asdict(self)
        data["kind"] = self.kind.value
        data["auth"] = self.auth.value
        keep: tuple[str, ...]
        if self.kind is NodeKind.DICOMWEB:
            keep = ("name", "kind", "url", "auth", "username", "verify_tls", "timeout_s")
        else:
            keep = (
                "name",
                "kind",
                "called_ae",
                "host",
                "port",
                "calling_ae",
                "storage_scp_port",
                "timeout_s",
            )
        return {key: data[key] for key in keep}

    @classmethod
    def from_json(cls, data: object) -> NodeSettings:
        """Return the node a JSON object describes.

        Raises
        ------
        NodeError
            Not an object of known fields with values of the right types.
        """
        if not isinstance(data, Mapping):
            raise NodeError("a node is not a JSON object")
        types: dict[str, tuple[type, ...]] = {
            "name": (str,),
            "kind": (str,),
            "url": (str,),
            "auth": (str,),
            "username": (str,),
            "verify_tls": (bool,),
            "called_ae": (str,),
            "host": (str,),
            "port": (int,),
            "calling_ae": (str,),
            "storage_scp_port": (int, type(None)),
            "timeout_s": (int, float),
        }
        name = data.get("name", "?")
        fields: dict[str, Any] = {}
        for key, value in data.items():
            if key not in types:
                continue  # a field of a later version: ignored
            wanted = types[key]
            if isinstance(value, bool) and bool not in wanted:
                raise NodeError(f"node {name!r}: {key} is not a {wanted[0].__name__}")
            if not isinstance(value, wanted):
                raise NodeError(f"node {name!r}: {key} is not a {wanted[0].__name__}")
            fields[key] = value
        try:
            fields["kind"] = NodeKind(fields.get("kind"))
            fields["auth"] = AuthKind(fields.get("auth", AuthKind.NONE.value))
        except ValueError as error:
            raise NodeError(f"node {name!r}: {error}") from None
        if "name" not in fields:
            raise NodeError("a node has no name")
        return cls(**fields)


def dumps_nodes(nodes: Sequence[NodeSettings]) -> str:
    """Return the nodes as JSON text for one settings value (no secrets in it)."""
    return json.dumps([node.to_json() for node in nodes], sort_keys=True)


def loads_nodes(text: str) -> tuple[list[NodeSettings], list[str]]:
    """Return the nodes of :func:`dumps_nodes` text, and one line per entry left out.

    Never raises: text that is not a JSON list gives no nodes and one problem; an
    unusable entry or a repeated name is left out with its reason.
    """
    if not text.strip():
        return [], []
    try:
        data = json.loads(text)
    except ValueError as error:
        return [], [f"PACS nodes setting is not JSON ({error}); no nodes configured"]
    if not isinstance(data, list):
        return [], ["PACS nodes setting is not a JSON list; no nodes configured"]
    nodes: list[NodeSettings] = []
    problems: list[str] = []
    for entry in data:
        try:
            node = NodeSettings.from_json(entry)
        except NodeError as error:
            problems.append(f"PACS node left out: {error}")
            continue
        if any(other.name == node.name for other in nodes):
            problems.append(f"PACS node left out: the name {node.name!r} is used twice")
            continue
        nodes.append(node)
    return nodes, problems


def unique_name(wanted: str, taken: Iterable[str]) -> str:
    """Return ``wanted``, or ``wanted 2``, ``wanted 3``… whichever is not taken."""
    names = set(taken)
    if wanted not in names:
        return wanted
    number = 2
    while f"{wanted} {number}" in names:
        number += 1
    return f"{wanted} {number}"


class SecretStore:
    """Where node secrets are kept: the OS keyring if usable, else this session's memory.

    Parameters
    ----------
    backend
        The keyring backend; ``keyring.get_keyring()`` (the platform's, chosen by
        priority) when None, looked up on first use: importing keyring and probing its
        backends takes ~0.2 s, which the window's start-up should not pay. Tests pass
        an in-memory one.

    Attributes
    ----------
    problems
        Why the keyring failed, one line each, for the window to report.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._chosen = backend
        self._session: dict[str, str] = {}
        self.problems: list[str] = []

    @property
    def _backend(self) -> KeyringBackend:
        """The keyring backend, chosen on first use."""
        if self._chosen is None:
            import keyring

            self._chosen = keyring.get_keyring()
        return self._chosen

    def take_problems(self) -> list[str]:
        """Return the keyring problems met since the last call, and forget them."""
        problems, self.problems = self.problems, []
        return problems

    @property
    def persistent(self) -> bool:
        """Whether secrets survive the session (a keyring backend of priority above 0)."""
        try:
            return float(self._backend.priority) > 0
        except Exception:  # a backend that cannot even say: not usable
            return False

    def get(self, name: str) -> str | None:
        """Return a node's secret, None when none is known."""
        if name in self._session:
            return self._session[name]
        if not self.persistent:
            return None
        try:
            secret = self._backend.get_password(KEYRING_SERVICE, name)
        except Exception as error:  # keyring raises many kinds (D-Bus, locked, denied)
            self.problems.append(f"OS keyring: cannot read the secret of {name!r}: {error}")
            return None
        if secret is not None:
            self._session[name] = secret
        return secret

    def put(self, name: str, secret: str) -> bool:
        """Keep a node's secret; return whether it is in the keyring (else session only)."""
        self._session[name] = secret
        if not self.persistent:
            return False
        try:
            self._backend.set_password(KEYRING_SERVICE, name, secret)
        except Exception as error:
            self.problems.append(
                f"OS keyring: cannot keep the secret of {name!r} ({error}); "
                "kept for this session only"
            )
            return False
        return True

    def forget(self, name: str) -> None:
        """Drop a node's secret (session and keyring)."""
        self._session.pop(name, None)
        if not self.persistent:
            return
        try:
            self._backend.delete_password(KEYRING_SERVICE, name)
        except Exception:  # absent, or the keyring refuses: nothing more to drop
            return


def environment_nodes(environ: Mapping[str, str] | None = None) -> list[NodeSettings]:
    """Return the nodes named by :data:`URL_ENVIRONMENT` and :data:`DIMSE_ENVIRONMENT`.

    Named ``DICOMweb <url>`` and ``DIMSE <AET@HOST:PORT>``, with no login; a value that is
    not a usable node is left out. ``make run-pacs`` sets the first: the Query/Retrieve
    panel searches it and Store Marks to PACS stores to it when no node is configured.
    """
    import os

    env = os.environ if environ is None else environ
    found: list[NodeSettings] = []
    url = env.get(URL_ENVIRONMENT, "").strip()
    dimse = env.get(DIMSE_ENVIRONMENT, "").strip()
    try:
        if url:
            parse_dicomweb_url(url)
            found.append(NodeSettings(f"DICOMweb {url}", NodeKind.DICOMWEB, url=url))
    except NodeError:
        pass
    try:
        if dimse:
            node = parse_dimse_address(dimse)
            found.append(
                NodeSettings(
                    f"DIMSE {dimse}",
                    NodeKind.DIMSE,
                    called_ae=node.called_ae,
                    host=node.host,
                    port=node.port,
                )
            )
    except NodeError:
        pass
    return found
