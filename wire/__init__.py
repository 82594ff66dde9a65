"""wire: the one codec for every gometa frame, declared with construct.

Import message types and the codec from here only; the underscore modules are
private. See ``_schema`` for the construct declarations.
"""

from wire._messages import (
    CUSTOM_OPCODE_THRESHOLD,
    MESSAGE_CLASSES,
    PROTO_VERSION,
    STREAM_BEGIN_KEY,
    STREAM_END_KEY,
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
    OpCode,
    PeerStatus,
    Proposal,
    Request,
    Response,
    Vote,
    make_txid,
    txid_counter,
    txid_epoch,
)

__all__ = [
    "CUSTOM_OPCODE_THRESHOLD",
    "MESSAGE_CLASSES",
    "PROTO_VERSION",
    "STREAM_BEGIN_KEY",
    "STREAM_END_KEY",
    "Abort",
    "Accept",
    "Commit",
    "EpochAck",
    "FollowerInfo",
    "LeaderInfo",
    "LogEntry",
    "Message",
    "NewLeader",
    "NewLeaderAck",
    "OpCode",
    "PeerStatus",
    "Proposal",
    "Request",
    "Response",
    "Vote",
    "make_txid",
    "txid_counter",
    "txid_epoch",
]
