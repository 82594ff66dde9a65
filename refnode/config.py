"""gometa's JSON config file (spec §9.3), read and written exactly as Go does.

Go's encoding/json matches keys case-insensitively and ignores unknown keys;
gometa then resolves each address and compares ids byte for byte, so every
address here is resolved to a canonical ``ip:port`` string (IPv6 in
brackets). A bad file gets a ConfigError naming the field, never a traceback.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refnode.core.config import Mode, NodeConfig, PeerAddr


class ConfigError(ValueError):
    """The config file is unusable; ``field`` says which entry (e.g. ``Peer[1].MessageAddr``)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberAddrs:
    """One member's three addresses, resolved; ``request`` may be empty for peers."""

    election: str
    message: str
    request: str = ""

    def to_json(self) -> dict[str, str]:
        """The JSON object gometa expects."""
        return {
            "ElectionAddr": self.election,
            "MessageAddr": self.message,
            "RequestAddr": self.request,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class GometaConfig:
    """A member's view: itself (``host``) and the others (``peers``, in file order).

    Peer i's election and message addresses are paired by index, which is how
    gometa maps a winning election id to the leader's TCP address.
    """

    host: MemberAddrs
    peers: tuple[MemberAddrs, ...] = ()

    def to_node_config(
        self, mode: Mode = Mode.STANDALONE, *, fid: str = "", leader_message_addr: str = ""
    ) -> NodeConfig:
        """The core's view of this file (identities as plain strings)."""

        def addr(m: MemberAddrs) -> PeerAddr:
            return PeerAddr(
                election_addr=m.election, message_addr=m.message, request_addr=m.request
            )

        leader = canonical_addr(leader_message_addr, "--leader") if leader_message_addr else ""
        return NodeConfig(
            host=addr(self.host),
            peers=tuple(addr(p) for p in self.peers),
            mode=mode,
            fid=fid,
            leader_message_addr=leader,
        )

    def to_json(self) -> dict[str, Any]:
        """The config file's JSON document."""
        return {"Host": self.host.to_json(), "Peer": [p.to_json() for p in self.peers]}

    def write(self, path: Path) -> Path:
        """Write the file gometa (and any compatible node) reads; return its path."""
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path


def canonical_addr(addr: str, field: str) -> str:
    """Resolve ``host:port`` to the string Go's ``UDPAddr.String()`` would print."""
    if not isinstance(addr, str) or not addr:
        raise ConfigError(field, f"expected a 'host:port' string, got {addr!r}")
    host, sep, port_text = addr.rpartition(":")
    if not sep or not host:
        raise ConfigError(field, f"missing port in address {addr!r}")
    host = host.removeprefix("[").removesuffix("]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(field, f"port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(field, f"port {port} out of range")
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except OSError as exc:
            raise ConfigError(field, f"cannot resolve {host!r}: {exc}") from None
        ip = ipaddress.ip_address(infos[0][4][0])
    return f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"


def _get(obj: Mapping[str, Any], key: str) -> Any:
    """Go's encoding/json: exact key first, then a case-insensitive match."""
    if key in obj:
        return obj[key]
    for name, value in obj.items():
        if name.lower() == key.lower():
            return value
    return None


def _member(obj: Any, field: str, need_request: bool) -> MemberAddrs:
    if not isinstance(obj, Mapping):
        raise ConfigError(field, f"expected an object, got {type(obj).__name__}")
    election = canonical_addr(_get(obj, "ElectionAddr"), f"{field}.ElectionAddr")
    message = canonical_addr(_get(obj, "MessageAddr"), f"{field}.MessageAddr")
    raw_request = _get(obj, "RequestAddr")
    if raw_request in (None, "") and not need_request:
        request = ""
    else:
        request = canonical_addr(raw_request, f"{field}.RequestAddr")
    return MemberAddrs(election=election, message=message, request=request)


def parse_config(document: Any) -> GometaConfig:
    """Validate a decoded JSON document."""
    if not isinstance(document, Mapping):
        raise ConfigError("<root>", "expected a JSON object with Host and Peer")
    host_obj = _get(document, "Host")
    if host_obj is None:
        raise ConfigError("Host", "missing")
    host = _member(host_obj, "Host", need_request=False)
    peers_obj = _get(document, "Peer")
    if peers_obj is None:
        peers_obj = []
    if not isinstance(peers_obj, list):
        raise ConfigError("Peer", "expected an array of members")
    peers = tuple(_member(p, f"Peer[{i}]", need_request=False) for i, p in enumerate(peers_obj))
    seen: dict[str, str] = {host.election: "Host.ElectionAddr"}
    for i, peer in enumerate(peers):
        where = f"Peer[{i}].ElectionAddr"
        if peer.election in seen:
            raise ConfigError(where, f"{peer.election} repeats {seen[peer.election]}")
        seen[peer.election] = where
    return GometaConfig(host=host, peers=peers)


def load_config(path: Path) -> GometaConfig:
    """Read and validate a config file."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(str(path), f"cannot read: {exc.strerror or exc}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            str(path), f"invalid JSON at line {exc.lineno} col {exc.colno}: {exc.msg}"
        ) from None
    return parse_config(document)
