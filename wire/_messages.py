"""The thirteen gometa messages as frozen dataclasses.

gometa names its messages after the Go structs, and every receiver matches
those names exactly, so the classes keep them. Field names are the snake_case
forms of the proto field names; ``wire._schema`` alone maps them to field
numbers and wire types. Strings are ``str`` holding the exact wire bytes
(decoded with ``surrogateescape``), because proto2 does not check UTF-8 and a
compatible node must be able to echo a peer's bytes back unchanged.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TypeAlias

PROTO_VERSION = 1
"""What gometa always puts in ``version``; no receiver ever reads it."""


class OpCode(enum.IntEnum):
    """Operation codes (spec §10.2). Values above 50 are custom requests."""

    INVALID = 0
    ADD = 1
    SET = 2
    DELETE = 3
    GET = 4
    STREAM_BEGIN = 5
    STREAM_END = 6
    BROADCAST = 7


CUSTOM_OPCODE_THRESHOLD = 50
"""An op code is custom when it is strictly greater than this (spec §10.2)."""

STREAM_BEGIN_KEY = "StreamBegin"
STREAM_END_KEY = "StreamEnd"


class PeerStatus(enum.IntEnum):
    """``Vote.status`` values (spec §0)."""

    ELECTING = 0
    LEADING = 1
    FOLLOWING = 2
    WATCHING = 3


def make_txid(epoch: int, counter: int) -> int:
    """Build a txid: epoch in the high 32 bits, counter in the low 32."""
    return ((epoch & 0xFFFFFFFF) << 32) | (counter & 0xFFFFFFFF)


def txid_epoch(txid: int) -> int:
    """The epoch half of a txid."""
    return txid >> 32


def txid_counter(txid: int) -> int:
    """The counter half of a txid."""
    return txid & 0xFFFFFFFF


@dataclass(frozen=True, slots=True, kw_only=True)
class Proposal:
    """Leader → followers and watchers: log this entry (spec §2.2)."""

    version: int = PROTO_VERSION
    txnid: int
    fid: str
    req_id: int
    op_code: int
    key: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Accept:
    """Follower → leader: I logged ``txnid``."""

    version: int = PROTO_VERSION
    txnid: int
    fid: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    """Leader → followers and watchers: apply ``txnid``."""

    version: int = PROTO_VERSION
    txnid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Vote:
    """UDP election vote, and the reply to an inquiry (spec §4)."""

    version: int = PROTO_VERSION
    round: int
    status: int
    epoch: int
    cnd_id: str
    cnd_logged_txn_id: int
    cnd_committed_txn_id: int
    solicit: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowerInfo:
    """First message of a follower or watcher on a new connection."""

    version: int = PROTO_VERSION
    accepted_epoch: int
    fid: str
    voting: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EpochAck:
    """Follower → leader after LeaderInfo; its txid starts the sync stream."""

    version: int = PROTO_VERSION
    last_logged_txid: int
    current_epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaderInfo:
    """Leader → follower: the epoch the quorum agreed on."""

    version: int = PROTO_VERSION
    accepted_epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLeader:
    """Leader → follower after the sync stream."""

    version: int = PROTO_VERSION
    current_epoch: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NewLeaderAck:
    """Follower → leader: sync applied. Its content is never examined."""

    version: int = PROTO_VERSION


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One entry of the sync stream, or a StreamBegin/StreamEnd marker."""

    version: int = PROTO_VERSION
    txnid: int
    op_code: int
    key: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """Follower or watcher → leader: a forwarded client request."""

    version: int = PROTO_VERSION
    req_id: int
    op_code: int
    key: str
    content: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Abort:
    """Leader → originator: the request failed.

    ``error`` is optional in the proto but Go always sends it, so the default
    is the empty string (sent as ``22 00``); ``None`` means absent.
    """

    version: int = PROTO_VERSION
    req_id: int
    fid: str
    error: str | None = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """Leader → originator: answer to a custom request.

    ``error`` defaults to ``""`` because Go always sends it; ``content`` is
    omitted (``None``) unless there is some, again as Go does.
    """

    version: int = PROTO_VERSION
    req_id: int
    fid: str
    error: str | None = ""
    content: bytes | None = None


Message: TypeAlias = (
    Proposal
    | Accept
    | Commit
    | Vote
    | FollowerInfo
    | EpochAck
    | LeaderInfo
    | NewLeader
    | NewLeaderAck
    | LogEntry
    | Request
    | Abort
    | Response
)

MESSAGE_CLASSES: tuple[type[Message], ...] = (
    Proposal,
    Accept,
    Commit,
    Vote,
    FollowerInfo,
    EpochAck,
    LeaderInfo,
    NewLeader,
    NewLeaderAck,
    LogEntry,
    Request,
    Abort,
    Response,
)
"""Every message class, in gometa's registration order."""
