"""Static configuration of one node, in gometa's JSON config shape (spec §9.3).

Identity rules (spec §3.1): the election id of a member is its UDP address
written exactly ``ip:port`` (IPv6 in brackets), and its follower id (fid) is
its MessageAddr string. Peer ``i``'s election and message addresses are
paired by position. Resolving host names is the driver's job: the core only
ever compares strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Mode(enum.Enum):
    """Deployment shape (spec §0)."""

    STANDALONE = "standalone"
    """A voting member of an ensemble of ``len(peers) + 1``."""
    WATCHER = "watcher"
    """A non-voting follower that finds the leader by soliciting votes."""
    EMBEDDED = "embedded"
    """The always-leading single leader with watchers and no election."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerAddr:
    """One entry of the ``Peer`` list (or the ``Host``)."""

    election_addr: str
    message_addr: str
    request_addr: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds the core enforces instead of blocking (SAFETY.md lists why).

    All durations are in seconds. The gometa constants (spec §10.1) are the
    defaults where gometa has one.
    """

    ballot_timeout: float = 0.050
    ballot_max_timeout: float = 0.500
    ballot_finalize_wait: float = 0.200
    sync_timeout: float = 300.0
    leader_timeout: float = 100.0
    partial_frame_timeout: float = 60.0
    """A frame whose first byte arrived must be complete within this (W4)."""
    election_error_pause: float = 0.100
    bootstrap_error_pause: float = 0.200
    embedded_restart_pause: float = 0.200
    watcher_retry_backoff: float = 1.0
    watcher_max_retry_backoff: float = 30.0
    max_pending_connections: int = 150
    """Connections accepted while not (yet) leading; more are closed (W6)."""
    max_observer_messages: int = 20_000
    """Catch-up queue of a syncing peer; when full the peer is dropped (W9)."""
    max_sync_entries: int = 1_000_000
    """Stream entries a follower buffers before StreamEnd (W22)."""
    max_client_queue: int = 10_000
    """Client requests waiting (for a leader, a sync, or a proposal slot); more are
    answered "queue full" at once."""
    max_outstanding_proposals: int = 10_000
    """Proposals in flight (uncommitted) at the leader; later writes wait in a
    FIFO backlog of at most ``max_client_queue`` (W8)."""
    max_datagram_size: int = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeConfig:
    """Everything the core needs to know about itself and its ensemble."""

    host: PeerAddr
    peers: tuple[PeerAddr, ...] = ()
    mode: Mode = Mode.STANDALONE
    fid: str = ""
    """Follower id; defaults to ``host.message_addr`` (required for watchers)."""
    leader_message_addr: str = ""
    """Watcher without election: the leader's MessageAddr to dial directly."""
    limits: Limits = field(default_factory=Limits)

    @property
    def my_fid(self) -> str:
        return self.fid or self.host.message_addr

    @property
    def ensemble_size(self) -> int:
        """Voting members: ``peers + 1`` standalone, 1 embedded."""
        if self.mode is Mode.EMBEDDED:
            return 1
        if self.mode is Mode.WATCHER:
            return len(self.peers)
        return len(self.peers) + 1

    def member_fids(self) -> frozenset[str]:
        """The fids allowed to vote in discovery and to Accept (W16, W27)."""
        if self.mode is Mode.WATCHER:
            return frozenset(p.message_addr for p in self.peers)
        return frozenset([self.host.message_addr, *(p.message_addr for p in self.peers)])

    def message_addr_of(self, election_id: str) -> str | None:
        """Map a winning candidate id to its MessageAddr by list position (§4.9)."""
        for peer in self.peers:
            if peer.election_addr == election_id:
                return peer.message_addr
        if election_id == self.host.election_addr:
            return self.host.message_addr
        return None
