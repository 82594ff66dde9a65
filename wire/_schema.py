"""The single declaration of gometa's wire format (spec §1.1, §2.2).

Everything else in ``wire`` (the compiled fast path, the general decoder, the
crafting tools, the scapy layers) is derived from the tables and construct
declarations in this module; nothing else lists field numbers or lengths.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import construct as cs

from wire import _combinators as pb
from wire._messages import (
    MESSAGE_CLASSES,
    Abort,
    Accept,
    Commit,
    EpochAck,
    FollowerInfo,
    LeaderInfo,
    LogEntry,
    Message,
    NewLeader,
    NewLeaderAck,
    Proposal,
    Request,
    Response,
    Vote,
)

MAX_FRAME_TOTAL_LEN = 20 * 1024 * 1024
"""Largest total_len a TCP receiver accepts (inclusive; spec §1.2)."""
MAX_NAME_LEN = 2048
"""Largest name_len a TCP receiver accepts."""
MAX_DATAGRAM_SIZE = 1000
"""gometa's UDP read buffer: longer datagrams are cut to this (spec §1.3)."""
HEADER_SIZE = 16
"""total_len + name_len."""


class Kind(enum.Enum):
    """Proto scalar kinds used by gometa (no enums, groups or nested messages)."""

    UINT32 = "uint32"
    UINT64 = "uint64"
    BOOL = "bool"
    STRING = "string"
    BYTES = "bytes"

    @property
    def wire_type(self) -> int:
        """The protobuf wire type this kind is sent with."""
        return pb.WIRETYPE_LEN if self in (Kind.STRING, Kind.BYTES) else pb.WIRETYPE_VARINT

    @property
    def construct(self) -> cs.Construct:
        """The construct that parses and builds one value of this kind."""
        return _KIND_CONSTRUCTS[self]


_KIND_CONSTRUCTS: Mapping[Kind, cs.Construct] = {
    Kind.UINT32: pb.UInt32,
    Kind.UINT64: pb.UInt64,
    Kind.BOOL: pb.Bool,
    Kind.STRING: pb.String,
    Kind.BYTES: pb.Bytes,
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One proto field: number, Python attribute, proto name, kind, label."""

    number: int
    attr: str
    proto_name: str
    kind: Kind
    required: bool = True

    @property
    def tag(self) -> bytes:
        """The encoded field key."""
        return pb.tag_bytes(self.number, self.kind.wire_type)

    def construct(self) -> cs.Construct:
        """This field as it appears in a canonical body."""
        make = pb.Field if self.required else pb.OptionalField
        return self.attr / make(self.number, self.kind.wire_type, self.kind.construct)


@dataclass(frozen=True, slots=True)
class MessageSpec:
    """A message: its registered name, dataclass and fields in number order."""

    name: str
    cls: type[Message]
    fields: tuple[FieldSpec, ...]

    @property
    def body(self) -> cs.Construct:
        """The canonical body: every field in ascending number order."""
        return _BODIES[self.name]

    def field(self, number: int) -> FieldSpec | None:
        """The field with this number, or None if unknown to the message."""
        for spec in self.fields:
            if spec.number == number:
                return spec
        return None


def _f(number: int, attr: str, proto_name: str, kind: Kind, required: bool = True) -> FieldSpec:
    return FieldSpec(number, attr, proto_name, kind, required)


_VERSION = _f(1, "version", "version", Kind.UINT32)

_SPECS: tuple[MessageSpec, ...] = (
    MessageSpec(
        "Proposal",
        Proposal,
        (
            _VERSION,
            _f(2, "txnid", "txnid", Kind.UINT64),
            _f(3, "fid", "fid", Kind.STRING),
            _f(4, "req_id", "reqId", Kind.UINT64),
            _f(5, "op_code", "opCode", Kind.UINT32),
            _f(6, "key", "key", Kind.STRING),
            _f(7, "content", "content", Kind.BYTES),
        ),
    ),
    MessageSpec(
        "Accept",
        Accept,
        (_VERSION, _f(2, "txnid", "txnid", Kind.UINT64), _f(3, "fid", "fid", Kind.STRING)),
    ),
    MessageSpec("Commit", Commit, (_VERSION, _f(2, "txnid", "txnid", Kind.UINT64))),
    MessageSpec(
        "Vote",
        Vote,
        (
            _VERSION,
            _f(2, "round", "round", Kind.UINT64),
            _f(3, "status", "status", Kind.UINT32),
            _f(4, "epoch", "epoch", Kind.UINT32),
            _f(5, "cnd_id", "cndId", Kind.STRING),
            _f(6, "cnd_logged_txn_id", "cndLoggedTxnId", Kind.UINT64),
            _f(7, "cnd_committed_txn_id", "cndCommittedTxnId", Kind.UINT64),
            _f(8, "solicit", "solicit", Kind.BOOL),
        ),
    ),
    MessageSpec(
        "FollowerInfo",
        FollowerInfo,
        (
            _VERSION,
            _f(2, "accepted_epoch", "acceptedEpoch", Kind.UINT32),
            _f(3, "fid", "fid", Kind.STRING),
            _f(4, "voting", "voting", Kind.BOOL),
        ),
    ),
    MessageSpec(
        "EpochAck",
        EpochAck,
        (
            _VERSION,
            _f(2, "last_logged_txid", "lastLoggedTxid", Kind.UINT64),
            _f(3, "current_epoch", "currentEpoch", Kind.UINT32),
        ),
    ),
    MessageSpec(
        "LeaderInfo", LeaderInfo, (_VERSION, _f(2, "accepted_epoch", "acceptedEpoch", Kind.UINT32))
    ),
    MessageSpec(
        "NewLeader", NewLeader, (_VERSION, _f(2, "current_epoch", "currentEpoch", Kind.UINT32))
    ),
    MessageSpec("NewLeaderAck", NewLeaderAck, (_VERSION,)),
    MessageSpec(
        "LogEntry",
        LogEntry,
        (
            _VERSION,
            _f(2, "txnid", "txnid", Kind.UINT64),
            _f(3, "op_code", "opCode", Kind.UINT32),
            _f(4, "key", "key", Kind.STRING),
            _f(5, "content", "content", Kind.BYTES),
        ),
    ),
    MessageSpec(
        "Request",
        Request,
        (
            _VERSION,
            _f(2, "req_id", "reqId", Kind.UINT64),
            _f(3, "op_code", "opCode", Kind.UINT32),
            _f(4, "key", "key", Kind.STRING),
            _f(5, "content", "content", Kind.BYTES),
        ),
    ),
    MessageSpec(
        "Abort",
        Abort,
        (
            _VERSION,
            _f(2, "req_id", "reqId", Kind.UINT64),
            _f(3, "fid", "fid", Kind.STRING),
            _f(4, "error", "error", Kind.STRING, required=False),
        ),
    ),
    MessageSpec(
        "Response",
        Response,
        (
            _VERSION,
            _f(2, "req_id", "reqId", Kind.UINT64),
            _f(3, "fid", "fid", Kind.STRING),
            _f(4, "error", "error", Kind.STRING, required=False),
            _f(5, "content", "content", Kind.BYTES, required=False),
        ),
    ),
)

SPECS: Mapping[str, MessageSpec] = MappingProxyType({s.name: s for s in _SPECS})
"""Message specs by registered (wire) name."""
SPEC_BY_CLASS: Mapping[type[Message], MessageSpec] = MappingProxyType({s.cls: s for s in _SPECS})
"""Message specs by dataclass."""
MESSAGE_BY_NAME: Mapping[str, type[Message]] = MappingProxyType({s.name: s.cls for s in _SPECS})
"""The 13 registered names and their classes; matching is exact and case-sensitive."""

assert tuple(s.cls for s in _SPECS) == MESSAGE_CLASSES

_BODIES: Mapping[str, cs.Construct] = {
    s.name: cs.Struct(*(f.construct() for f in s.fields)) for s in _SPECS
}


def _frame_total_len(ctx: Any) -> int:
    return 8 + len(ctx.name) + len(ctx.body)


FrameHeader = cs.Struct("total_len" / cs.Int64ub, "name_len" / cs.Int64ub)
"""The 16-byte header: total_len does not count itself (spec §1.1)."""

Frame = cs.Struct(
    "total_len" / cs.Rebuild(cs.Int64ub, _frame_total_len),
    "name_len" / cs.Rebuild(cs.Int64ub, cs.len_(cs.this.name)),
    "name" / cs.Bytes(cs.this.name_len),
    "body" / cs.Bytes(cs.this.total_len - 8 - cs.this.name_len),
)
"""A whole frame; the lengths are rebuilt from the name and body."""

RawFrame = cs.Struct(
    "total_len" / cs.Int64ub,
    "name_len" / cs.Int64ub,
    "rest" / cs.GreedyBytes,
)
"""A frame whose lengths are given, not computed: for crafting lies on purpose."""
