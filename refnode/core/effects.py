"""Effects: what the core asks its driver to do, and events it reports.

``Node.drain()`` returns one ordered list. A driver performs the items in
order, with one rule that makes the node safe across crashes:

**Persist before send.** Every ``Persist*`` effect must be durable before any
``SendDatagram``, ``SendMessage``, ``Dial`` or ``ClientReply`` that comes
*after it* in the same drained list is performed. A driver may therefore
collect the persists of one batch and make them durable with one fsync
(group commit) just before the first send that follows them; persists at the
end of a batch with no send after them may be flushed lazily, but in order:
a crash may lose only a *suffix* of the persists, never one in the middle.

Examples of the rule at work: a follower's ``PersistLogAppend`` precedes the
``SendMessage(Accept)`` for it; a leader's ``PersistCommit`` precedes the
``ClientReply`` that acknowledges the write; ``PersistEpochs`` precedes
``LeaderInfo``/``EpochAck``/``NewLeaderAck``.

``CloseConnection`` may be performed at once. Events (past tense) carry no
obligation; they exist for logs, traces and tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from wire import Message, Vote

# ---------------------------------------------------------------------------
# Network


@dataclass(frozen=True, slots=True, kw_only=True)
class SendDatagram:
    """Send ``msg`` (a Vote) from the election socket to ``to`` ("ip:port")."""

    to: str
    msg: Vote


@dataclass(frozen=True, slots=True, kw_only=True)
class Dial:
    """Open a TCP connection to ``addr``; report it as ``conn`` (negative).

    The driver answers with ``ConnectionEstablished(conn)`` or
    ``ConnectionClosed(conn)``. Followers and watchers enable TCP keepalive
    as gometa does (spec §1.2).
    """

    conn: int
    addr: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SendMessage:
    """Encode ``msg`` with ``wire.encode`` and write it on ``conn``.

    Messages for one connection must be written in order. A driver whose
    write buffer for ``conn`` grows beyond its bound must close the
    connection and report ``ConnectionClosed(conn, "send-backlog")`` rather
    than block (W8).
    """

    conn: int
    msg: Message


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseConnection:
    """Close ``conn``; no ``ConnectionClosed`` needs to be reported back."""

    conn: int
    reason: str


# ---------------------------------------------------------------------------
# Persistence (gometa's repository, spec §3.2)


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistEpochs:
    """Store the epochs (they only ever grow) and who the accepted epoch is from."""

    accepted_epoch: int
    accepted_leader: str
    current_epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistLogAppend:
    """Add a log record (txid → op, key, content) and set LastLoggedTxid."""

    txid: int
    op_code: int
    key: str
    content: bytes
    last_logged_txid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistLogTruncate:
    """Delete every *uncommitted* log record with txid > ``after_txid``."""

    after_txid: int
    last_logged_txid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistCommit:
    """Apply record ``txid`` and mark it committed.

    Apply means: ``op_code`` 1 or 2 puts ``key`` = ``content``, 3 deletes
    ``key``, anything else changes no data. Then set LastCommittedTxid to
    ``last_committed_txid``.
    """

    txid: int
    op_code: int
    key: str
    content: bytes
    last_committed_txid: int


# ---------------------------------------------------------------------------
# Clients


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientReply:
    """Answer ``ClientRequest(request_id)``: ``error`` None means success."""

    request_id: int
    error: str | None = None
    result: bytes = b""
    txid: int = 0
    """For a committed write, the txid it was committed under."""


# ---------------------------------------------------------------------------
# Events (past tense, observability only)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    run: int
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderElected:
    leader: str
    round: int
    epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleChanged:
    role: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EpochEstablished:
    """This node, as leader, made ``epoch`` its current epoch (quorum of EpochAck)."""

    epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowerSynced:
    fid: str
    voting: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderReady:
    epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProposalCommitted:
    txid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerDropped:
    conn: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DatagramDropped:
    src: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnded:
    run: int
    reason: str


Effect = Union[  # noqa: UP007
    SendDatagram,
    Dial,
    SendMessage,
    CloseConnection,
    PersistEpochs,
    PersistLogAppend,
    PersistLogTruncate,
    PersistCommit,
    ClientReply,
    RunStarted,
    LeaderElected,
    RoleChanged,
    EpochEstablished,
    FollowerSynced,
    LeaderReady,
    ProposalCommitted,
    PeerDropped,
    DatagramDropped,
    RunEnded,
]

PERSIST_TYPES = (PersistEpochs, PersistLogAppend, PersistLogTruncate, PersistCommit)
SEND_TYPES = (SendDatagram, Dial, SendMessage, ClientReply)
