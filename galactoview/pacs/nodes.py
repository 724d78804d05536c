"""PACS nodes: where a DICOMweb service or a DIMSE application entity is, and how to log in.

A node is a frozen value: the settings (later), the command line and the tests build
one, and the transfer code only reads it. ``str(node)`` is the name every message uses
for it: the base URL of a DICOMweb service, ``AET@HOST:PORT`` of a DIMSE peer.

Secrets (a password, a bearer token) live in the node only in memory; they are never
shown (``repr`` leaves them out) and never come from the command line itself (the CLI
reads them from an environment variable; the settings will keep them in the OS
keyring).

The command line names a node inline:

* ``--url http://HOST:PORT/dicom-web`` — the DICOMweb base URL (PS3.18 8.2: the
  service's root, to which ``/studies`` etc. are appended); :func:`parse_dicomweb_url`.
* ``--dimse AET@HOST:PORT`` — the called AE title, host and port of a DIMSE peer
  (PS3.8 for the upper layer; AE titles are the AE value representation of PS3.5 6.2:
  at most 16 characters, no backslash, no control characters, not only spaces);
  :func:`parse_dimse_address`.
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass, field
from typing import Final, TypeAlias
from urllib.parse import urlsplit

__all__ = [
    "DEFAULT_CALLING_AE",
    "DEFAULT_TIMEOUT_S",
    "Auth",
    "AuthKind",
    "DicomWebNode",
    "DimseNode",
    "NodeError",
    "PacsNode",
    "parse_ae_title",
    "parse_dicomweb_url",
    "parse_dimse_address",
]

#: Our own AE title when none is configured (the name PACS administrators register).
DEFAULT_CALLING_AE: Final = "GALACTOVIEW"
#: Seconds a connection attempt or an answer may take before the node counts as unreachable.
DEFAULT_TIMEOUT_S: Final = 30.0
#: Longest AE title (PS3.5 6.2, VR AE).
_AE_MAX_LENGTH: Final = 16


class NodeError(ValueError):
    """A node description is unusable; the message says what is wrong, in one line."""


class AuthKind(enum.Enum):
    """How a DICOMweb service is logged in to (PS3.18 does not fix one; these are HTTP's)."""

    NONE = "none"
    #: HTTP Basic authentication (RFC 7617): user name and password.
    BASIC = "basic"
    #: A bearer token (RFC 6750), e.g. an OAuth 2 access token.
    BEARER = "bearer"


@dataclass(frozen=True)
class Auth:
    """Credentials for a DICOMweb service.

    Parameters
    ----------
    kind
        None, HTTP Basic or bearer token.
    username
        The user name for Basic; empty otherwise.
    secret
        The password (Basic) or the token (bearer). Not part of ``repr``.
    """

    kind: AuthKind = AuthKind.NONE
    username: str = ""
    secret: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if self.kind is AuthKind.BASIC and not self.username:
            raise NodeError("HTTP Basic authentication needs a user name")
        if self.kind is AuthKind.BASIC and ":" in self.username:
            raise NodeError("an HTTP Basic user name cannot contain ':' (RFC 7617)")
        if self.kind is AuthKind.BEARER and not self.secret:
            raise NodeError("bearer-token authentication needs a token")
        if self.kind is AuthKind.NONE and (self.username or self.secret):
            raise NodeError("credentials given but authentication is 'none'")


#: No authentication.
NO_AUTH: Final = Auth()


@dataclass(frozen=True)
class DicomWebNode:
    """A DICOMweb service (PS3.18): QIDO-RS, WADO-RS and STOW-RS under one base URL.

    Parameters
    ----------
    url
        The service's base URL, ``http(s)://host[:port]/path`` without a trailing slash
        (e.g. ``http://127.0.0.1:8042/dicom-web`` for Orthanc).
    auth
        How to log in; none by default.
    verify_tls
        Check the server's TLS certificate (``https``). On by default; turning it off is
        for test servers with self-signed certificates only.
    timeout_s
        Seconds to wait for a connection or for the next bytes of an answer.
    """

    url: str
    auth: Auth = NO_AUTH
    verify_tls: bool = True
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", _checked_url(self.url))
        if not self.timeout_s > 0:
            raise NodeError(f"timeout must be positive, not {self.timeout_s}")

    def __str__(self) -> str:
        return self.url


@dataclass(frozen=True)
class DimseNode:
    """A DIMSE peer (PS3.7): the PACS's application entity, and ours.

    Parameters
    ----------
    called_ae
        The peer's AE title (PS3.5 6.2 VR AE, at most 16 characters).
    host
        Its host name or IP address.
    port
        Its TCP port (1–65535; 104 and 11112 are the registered ones).
    calling_ae
        Our AE title, which the peer must know (e.g. Orthanc's ``DicomModalities``).
    storage_scp_port
        The port of our storage SCP, the C-MOVE destination the peer sends to
        (PS3.4 C.4.2); ``None`` when only C-GET is used.
    timeout_s
        Seconds to wait for the association, a network read or a DIMSE answer.
    """

    called_ae: str
    host: str
    port: int
    calling_ae: str = DEFAULT_CALLING_AE
    storage_scp_port: int | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        object.__setattr__(self, "called_ae", parse_ae_title(self.called_ae, "called AE title"))
        object.__setattr__(self, "calling_ae", parse_ae_title(self.calling_ae, "calling AE title"))
        if not self.host or any(c.isspace() for c in self.host):
            raise NodeError(f"not a host name: {self.host!r}")
        _check_port(self.port, "port")
        if self.storage_scp_port is not None:
            _check_port(self.storage_scp_port, "storage SCP port")
        if not self.timeout_s > 0:
            raise NodeError(f"timeout must be positive, not {self.timeout_s}")

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.called_ae}@{host}:{self.port}"


def parse_dicomweb_url(
    text: str,
    auth: Auth = NO_AUTH,
    *,
    verify_tls: bool = True,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> DicomWebNode:
    """Return the DICOMweb node of a ``--url`` value.

    Parameters
    ----------
    text
        ``http(s)://host[:port]/path``; a trailing ``/`` is dropped.
    auth, verify_tls, timeout_s
        As :class:`DicomWebNode`.

    Raises
    ------
    NodeError
        Not an http(s) URL with a host, or it carries credentials or a query.
    """
    return DicomWebNode(text, auth, verify_tls, timeout_s)


def parse_dimse_address(
    text: str,
    *,
    calling_ae: str = DEFAULT_CALLING_AE,
    storage_scp_port: int | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> DimseNode:
    """Return the DIMSE node of a ``--dimse AET@HOST:PORT`` value.

    ``HOST`` may be a name, an IPv4 address or a bracketed IPv6 address
    (``ORTHANC@[::1]:4242``).

    Parameters
    ----------
    text
        ``AET@HOST:PORT``.
    calling_ae, storage_scp_port, timeout_s
        As :class:`DimseNode`.

    Raises
    ------
    NodeError
        The text is not of that form, or a part is invalid.
    """
    ae, at, rest = text.rpartition("@")
    if not at:
        raise NodeError(f"{text!r} is not AET@HOST:PORT (no '@')")
    if rest.startswith("["):
        host, bracket, port_text = rest[1:].partition("]")
        if not bracket or not port_text.startswith(":"):
            raise NodeError(f"{text!r} is not AET@[IPv6]:PORT")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise NodeError(f"{text!r}: {host!r} is not an IPv6 address") from None
        port_text = port_text[1:]
    else:
        host, colon, port_text = rest.rpartition(":")
        if not colon:
            raise NodeError(f"{text!r} is not AET@HOST:PORT (no ':PORT')")
        if ":" in host:
            raise NodeError(f"{text!r}: write an IPv6 host in brackets, AET@[::1]:PORT")
    if not port_text.isdigit():
        raise NodeError(f"{text!r}: port {port_text!r} is not a number")
    return DimseNode(ae, host, int(port_text), calling_ae, storage_scp_port, timeout_s)


def parse_ae_title(text: str, what: str = "AE title") -> str:
    """Return an AE title (PS3.5 6.2, VR AE) with its padding spaces removed.

    Raises
    ------
    NodeError
        Empty, only spaces, longer than 16 characters, or with a backslash or a
        control character.
    """
    title = text.strip(" ")
    if not title:
        raise NodeError(f"the {what} is empty")
    if len(title) > _AE_MAX_LENGTH:
        raise NodeError(f"the {what} {title!r} is longer than {_AE_MAX_LENGTH} characters")
    if "\\" in title or any(ord(c) < 0x20 or ord(c) > 0x7E for c in title):
        raise NodeError(f"the {what} {title!r} has a backslash or a non-printable character")
    return title


def _checked_url(text: str) -> str:
    """Return a DICOMweb base URL without its trailing slash, or raise :class:`NodeError`."""
    url = text.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise NodeError(f"{text!r} is not a URL: {error}") from None
    if parts.scheme not in ("http", "https"):
        raise NodeError(f"{text!r} is not an http:// or https:// URL")
    if not parts.hostname:
        raise NodeError(f"{text!r} has no host")
    if parts.username is not None or parts.password is not None:
        raise NodeError(
            f"{parts.hostname}: give credentials with --user/--password-env, not in the URL"
        )
    if parts.query or parts.fragment:
        raise NodeError(f"{text!r}: a base URL has no query or fragment")
    if port == 0:
        raise NodeError(f"{text!r}: port 0")
    return url


def _check_port(port: int, what: str) -> None:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise NodeError(f"the {what} must be 1-65535, not {port!r}")


#: A node of either protocol: what the CLI, the panel and :mod:`galactoview.pacs.fetch` take.
PacsNode: TypeAlias = DicomWebNode | DimseNode
