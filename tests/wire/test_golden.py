"""Golden frames: the spec's hex examples and a real Go capture, byte for byte.

Three independent sources must agree with the codec:

* the spec's hex dumps (§2.4 worked examples and Appendix A), transcribed
  verbatim as hex text *and* as byte literals annotated one field per line
  (pyca/tls style), each checked against the other;
* frames hand-assembled here without the codec (python-miio ``build_msg``
  style): ``struct`` headers and a ten-line varint writer;
* all 504 frames of ``tests/testdata/captures/gometa-3node.frames.json``,
  captured from a live 3-member Go ensemble (see the ``.md`` next to it):
  each decodes to its listed fields and re-encodes to its exact bytes.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import pytest

import wire

CAPTURES = Path(__file__).resolve().parent.parent / "testdata" / "captures"
FRAMES_JSON = CAPTURES / "gometa-3node.frames.json"
FRAMES_SHA256 = "99f471e12b12723b983bdbfc0cb9cd2b2537b7c9772bc486c65b01d7b0932875"

T1 = 0x0000000100000001
"""Appendix A's txid: epoch 1, counter 1."""
FID = "127.0.0.1:6002"
"""Appendix A's follower id."""


# --------------------------------------------------------------------------
# Spec frames: annotated literals and the spec's own hex text.
# --------------------------------------------------------------------------

# fmt: off
# (one field per line, comments aligned, pyca/tls style; keep the formatter out)

# §2.4 Vote (58 bytes)
SPEC_2_4_VOTE = (
    b"\x00\x00\x00\x00\x00\x00\x00\x32"  # total_len = 50 (8 + 4 + 38)
    b"\x00\x00\x00\x00\x00\x00\x00\x04"  # name_len = 4
    b"Vote"                              # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x03"                          # f2 round = 3
    b"\x18\x00"                          # f3 status = 0
    b"\x20\x02"                          # f4 epoch = 2
    b"\x2a\x0e"                          # f5 cnd_id: key, len 14
    b"127.0.0.1:5001"                    #    cnd_id = '127.0.0.1:5001'
    b"\x30\x85\x80\x80\x80\x20"          # f6 cnd_logged_txn_id = 0x200000005
    b"\x38\x84\x80\x80\x80\x20"          # f7 cnd_committed_txn_id = 0x200000004
    b"\x40\x00"                          # f8 solicit = 0
)
SPEC_2_4_VOTE_SPEC_HEX = """
00 00 00 00 00 00 00 32  00 00 00 00 00 00 00 04  56 6f 74 65
08 01 10 03 18 00 20 02 2a 0e 31 32 37 2e 30 2e 30 2e 31 3a 35 30 30 31
30 85 80 80 80 20 38 84 80 80 80 20 40 00
"""


# §2.4 Proposal (58 bytes)
SPEC_2_4_PROPOSAL = (
    b"\x00\x00\x00\x00\x00\x00\x00\x32"  # total_len = 50 (8 + 8 + 34)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"Proposal"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x81\x80\x80\x80\x10"          # f2 txnid = 0x100000001
    b"\x1a\x0e"                          # f3 fid: key, len 14
    b"127.0.0.1:5002"                    #    fid = '127.0.0.1:5002'
    b"\x20\x07"                          # f4 req_id = 7
    b"\x28\x02"                          # f5 op_code = 2
    b"\x32\x01"                          # f6 key: key, len 1
    b"k"                                 #    key = 'k'
    b"\x3a\x01"                          # f7 content: key, len 1
    b"v"                                 #    content = 'v'
)
SPEC_2_4_PROPOSAL_SPEC_HEX = """
00 00 00 00 00 00 00 32  00 00 00 00 00 00 00 08  50 72 6f 70 6f 73 61 6c
08 01 10 81 80 80 80 10 1a 0e 31 32 37 2e 30 2e 30 2e 31 3a 35 30 30 32
20 07 28 02 32 01 6b 3a 01 76
"""


# Appendix A Accept{T1, "127.0.0.1:6002"} (46 bytes)
A_ACCEPT = (
    b"\x00\x00\x00\x00\x00\x00\x00\x26"  # total_len = 38 (8 + 6 + 24)
    b"\x00\x00\x00\x00\x00\x00\x00\x06"  # name_len = 6
    b"Accept"                            # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x81\x80\x80\x80\x10"          # f2 txnid = 0x100000001
    b"\x1a\x0e"                          # f3 fid: key, len 14
    b"127.0.0.1:6002"                    #    fid = '127.0.0.1:6002'
)
A_ACCEPT_SPEC_HEX = """
00 00 00 00 00 00 00 26 00 00 00 00 00 00 00 06 41 63 63 65 70 74
08 01 10 81 80 80 80 10 1a 0e 31 32 37 2e 30 2e 30 2e 31 3a 36 30 30 32
"""


# Appendix A Commit{T1} (30 bytes)
A_COMMIT = (
    b"\x00\x00\x00\x00\x00\x00\x00\x16"  # total_len = 22 (8 + 6 + 8)
    b"\x00\x00\x00\x00\x00\x00\x00\x06"  # name_len = 6
    b"Commit"                            # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x81\x80\x80\x80\x10"          # f2 txnid = 0x100000001
)
A_COMMIT_SPEC_HEX = """
00 00 00 00 00 00 00 16 00 00 00 00 00 00 00 06 43 6f 6d 6d 69 74
08 01 10 81 80 80 80 10
"""


# Appendix A FollowerInfo{acceptedEpoch 0, fid "127.0.0.1:6002", voting true} (50 bytes)
A_FOLLOWER_INFO = (
    b"\x00\x00\x00\x00\x00\x00\x00\x2a"  # total_len = 42 (8 + 12 + 22)
    b"\x00\x00\x00\x00\x00\x00\x00\x0c"  # name_len = 12
    b"FollowerInfo"                      # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x00"                          # f2 accepted_epoch = 0
    b"\x1a\x0e"                          # f3 fid: key, len 14
    b"127.0.0.1:6002"                    #    fid = '127.0.0.1:6002'
    b"\x20\x01"                          # f4 voting = 1
)
A_FOLLOWER_INFO_SPEC_HEX = """
00 00 00 00 00 00 00 2a 00 00 00 00 00 00 00 0c 46 6f 6c 6c 6f 77 65 72 49 6e 66 6f
08 01 10 00 1a 0e 31 32 37 2e 30 2e 30 2e 31 3a 36 30 30 32 20 01
"""


# Appendix A LeaderInfo{acceptedEpoch 1} (30 bytes)
A_LEADER_INFO = (
    b"\x00\x00\x00\x00\x00\x00\x00\x16"  # total_len = 22 (8 + 10 + 4)
    b"\x00\x00\x00\x00\x00\x00\x00\x0a"  # name_len = 10
    b"LeaderInfo"                        # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x01"                          # f2 accepted_epoch = 1
)
A_LEADER_INFO_SPEC_HEX = """
00 00 00 00 00 00 00 16 00 00 00 00 00 00 00 0a 4c 65 61 64 65 72 49 6e 66 6f
08 01 10 01
"""


# Appendix A EpochAck{lastLoggedTxid 0, currentEpoch 0} (30 bytes)
A_EPOCH_ACK = (
    b"\x00\x00\x00\x00\x00\x00\x00\x16"  # total_len = 22 (8 + 8 + 6)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"EpochAck"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x00"                          # f2 last_logged_txid = 0
    b"\x18\x00"                          # f3 current_epoch = 0
)
A_EPOCH_ACK_SPEC_HEX = """
00 00 00 00 00 00 00 16 00 00 00 00 00 00 00 08 45 70 6f 63 68 41 63 6b
08 01 10 00 18 00
"""


# Appendix A NewLeader{currentEpoch 1} (29 bytes)
A_NEW_LEADER = (
    b"\x00\x00\x00\x00\x00\x00\x00\x15"  # total_len = 21 (8 + 9 + 4)
    b"\x00\x00\x00\x00\x00\x00\x00\x09"  # name_len = 9
    b"NewLeader"                         # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x01"                          # f2 current_epoch = 1
)
A_NEW_LEADER_SPEC_HEX = """
00 00 00 00 00 00 00 15 00 00 00 00 00 00 00 09 4e 65 77 4c 65 61 64 65 72
08 01 10 01
"""


# Appendix A NewLeaderAck{} (30 bytes)
A_NEW_LEADER_ACK = (
    b"\x00\x00\x00\x00\x00\x00\x00\x16"  # total_len = 22 (8 + 12 + 2)
    b"\x00\x00\x00\x00\x00\x00\x00\x0c"  # name_len = 12
    b"NewLeaderAck"                      # name
    b"\x08\x01"                          # f1 version = 1
)
A_NEW_LEADER_ACK_SPEC_HEX = """
00 00 00 00 00 00 00 16 00 00 00 00 00 00 00 0c 4e 65 77 4c 65 61 64 65 72 41 63 6b
08 01
"""


# Appendix A LogEntry StreamBegin{txnid 0, op 5} (56 bytes)
A_STREAM_BEGIN = (
    b"\x00\x00\x00\x00\x00\x00\x00\x30"  # total_len = 48 (8 + 8 + 32)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"LogEntry"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x00"                          # f2 txnid = 0
    b"\x18\x05"                          # f3 op_code = 5
    b"\x22\x0b"                          # f4 key: key, len 11
    b"StreamBegin"                       #    key = 'StreamBegin'
    b"\x2a\x0b"                          # f5 content: key, len 11
    b"StreamBegin"                       #    content = 'StreamBegin'
)
A_STREAM_BEGIN_SPEC_HEX = """
00 00 00 00 00 00 00 30 00 00 00 00 00 00 00 08 4c 6f 67 45 6e 74 72 79
08 01 10 00 18 05 22 0b 53 74 72 65 61 6d 42 65 67 69 6e 2a 0b 53 74 72 65 61 6d 42 65 67 69 6e
"""


# Appendix A LogEntry StreamEnd{txnid 0, op 6} (52 bytes)
A_STREAM_END = (
    b"\x00\x00\x00\x00\x00\x00\x00\x2c"  # total_len = 44 (8 + 8 + 28)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"LogEntry"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x00"                          # f2 txnid = 0
    b"\x18\x06"                          # f3 op_code = 6
    b"\x22\x09"                          # f4 key: key, len 9
    b"StreamEnd"                         #    key = 'StreamEnd'
    b"\x2a\x09"                          # f5 content: key, len 9
    b"StreamEnd"                         #    content = 'StreamEnd'
)
A_STREAM_END_SPEC_HEX = """
00 00 00 00 00 00 00 2c 00 00 00 00 00 00 00 08 4c 6f 67 45 6e 74 72 79
08 01 10 00 18 06 22 09 53 74 72 65 61 6d 45 6e 64 2a 09 53 74 72 65 61 6d 45 6e 64
"""


# Appendix A LogEntry{T1, op 2, "k", "v"} (40 bytes)
A_LOG_ENTRY = (
    b"\x00\x00\x00\x00\x00\x00\x00\x20"  # total_len = 32 (8 + 8 + 16)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"LogEntry"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x81\x80\x80\x80\x10"          # f2 txnid = 0x100000001
    b"\x18\x02"                          # f3 op_code = 2
    b"\x22\x01"                          # f4 key: key, len 1
    b"k"                                 #    key = 'k'
    b"\x2a\x01"                          # f5 content: key, len 1
    b"v"                                 #    content = 'v'
)
A_LOG_ENTRY_SPEC_HEX = """
00 00 00 00 00 00 00 20 00 00 00 00 00 00 00 08 4c 6f 67 45 6e 74 72 79
08 01 10 81 80 80 80 10 18 02 22 01 6b 2a 01 76
"""


# Appendix A Request{reqId 42, op 2, "k", "v"} (35 bytes)
A_REQUEST = (
    b"\x00\x00\x00\x00\x00\x00\x00\x1b"  # total_len = 27 (8 + 7 + 12)
    b"\x00\x00\x00\x00\x00\x00\x00\x07"  # name_len = 7
    b"Request"                           # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x2a"                          # f2 req_id = 42
    b"\x18\x02"                          # f3 op_code = 2
    b"\x22\x01"                          # f4 key: key, len 1
    b"k"                                 #    key = 'k'
    b"\x2a\x01"                          # f5 content: key, len 1
    b"v"                                 #    content = 'v'
)
A_REQUEST_SPEC_HEX = """
00 00 00 00 00 00 00 1b 00 00 00 00 00 00 00 07 52 65 71 75 65 73 74
08 01 10 2a 18 02 22 01 6b 2a 01 76
"""


# Appendix A Abort{reqId 42, fid "127.0.0.1:6002", error "oops"} (47 bytes)
A_ABORT = (
    b"\x00\x00\x00\x00\x00\x00\x00\x27"  # total_len = 39 (8 + 5 + 26)
    b"\x00\x00\x00\x00\x00\x00\x00\x05"  # name_len = 5
    b"Abort"                             # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x2a"                          # f2 req_id = 42
    b"\x1a\x0e"                          # f3 fid: key, len 14
    b"127.0.0.1:6002"                    #    fid = '127.0.0.1:6002'
    b"\x22\x04"                          # f4 error: key, len 4
    b"oops"                              #    error = 'oops'
)
A_ABORT_SPEC_HEX = """
00 00 00 00 00 00 00 27 00 00 00 00 00 00 00 05 41 62 6f 72 74
08 01 10 2a 1a 0e 31 32 37 2e 30 2e 30 2e 31 3a 36 30 30 32 22 04 6f 6f 70 73
"""


# Appendix A Response{reqId 42, fid "127.0.0.1:6002", error "No custom request handler",
#   no content} (71 bytes)
A_RESPONSE = (
    b"\x00\x00\x00\x00\x00\x00\x00\x3f"  # total_len = 63 (8 + 8 + 47)
    b"\x00\x00\x00\x00\x00\x00\x00\x08"  # name_len = 8
    b"Response"                          # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x2a"                          # f2 req_id = 42
    b"\x1a\x0e"                          # f3 fid: key, len 14
    b"127.0.0.1:6002"                    #    fid = '127.0.0.1:6002'
    b"\x22\x19"                          # f4 error: key, len 25
    b"No custom request handler"         #    error = 'No custom request handler'
)
A_RESPONSE_SPEC_HEX = """
00 00 00 00 00 00 00 3f 00 00 00 00 00 00 00 08 52 65 73 70 6f 6e 73 65
08 01 10 2a 1a 0e 31 32 37 2e 30 2e 30 2e 31 3a 36 30 30 32
22 19 4e 6f 20 63 75 73 74 6f 6d 20 72 65 71 75 65 73 74 20 68 61 6e 64 6c 65 72
"""


# Appendix A Vote (watcher solicit){round 1, status 0, epoch 0, cndId "127.0.0.1:7001",
#   0, 0, solicit true} (50 bytes)
A_VOTE_SOLICIT = (
    b"\x00\x00\x00\x00\x00\x00\x00\x2a"  # total_len = 42 (8 + 4 + 30)
    b"\x00\x00\x00\x00\x00\x00\x00\x04"  # name_len = 4
    b"Vote"                              # name
    b"\x08\x01"                          # f1 version = 1
    b"\x10\x01"                          # f2 round = 1
    b"\x18\x00"                          # f3 status = 0
    b"\x20\x00"                          # f4 epoch = 0
    b"\x2a\x0e"                          # f5 cnd_id: key, len 14
    b"127.0.0.1:7001"                    #    cnd_id = '127.0.0.1:7001'
    b"\x30\x00"                          # f6 cnd_logged_txn_id = 0
    b"\x38\x00"                          # f7 cnd_committed_txn_id = 0
    b"\x40\x01"                          # f8 solicit = 1
)
A_VOTE_SOLICIT_SPEC_HEX = """
00 00 00 00 00 00 00 2a 00 00 00 00 00 00 00 04 56 6f 74 65
08 01 10 01 18 00 20 00 2a 0e 31 32 37 2e 30 2e 30 2e 31 3a 37 30 30 31 30 00 38 00 40 01
"""


# fmt: on


@dataclass(frozen=True)
class Golden:
    """One spec example: the message its prose describes and its bytes, twice."""

    id: str
    message: wire.Message
    frame: bytes
    spec_hex: str


GOLDEN: tuple[Golden, ...] = (
    Golden(
        "2.4-vote",
        wire.Vote(
            round=3,
            status=0,  # PeerStatus.ELECTING
            epoch=2,
            cnd_id="127.0.0.1:5001",
            cnd_logged_txn_id=0x0000000200000005,
            cnd_committed_txn_id=0x0000000200000004,
            solicit=False,
        ),
        SPEC_2_4_VOTE,
        SPEC_2_4_VOTE_SPEC_HEX,
    ),
    Golden(
        "2.4-proposal",
        wire.Proposal(
            txnid=T1, fid="127.0.0.1:5002", req_id=7, op_code=2, key="k", content=b"v",
        ),
        SPEC_2_4_PROPOSAL,
        SPEC_2_4_PROPOSAL_SPEC_HEX,
    ),
    Golden("A-accept", wire.Accept(txnid=T1, fid=FID), A_ACCEPT, A_ACCEPT_SPEC_HEX),
    Golden("A-commit", wire.Commit(txnid=T1), A_COMMIT, A_COMMIT_SPEC_HEX),
    Golden(
        "A-follower-info",
        wire.FollowerInfo(accepted_epoch=0, fid=FID, voting=True),
        A_FOLLOWER_INFO,
        A_FOLLOWER_INFO_SPEC_HEX,
    ),
    Golden("A-leader-info", wire.LeaderInfo(accepted_epoch=1), A_LEADER_INFO,
           A_LEADER_INFO_SPEC_HEX),
    Golden(
        "A-epoch-ack",
        wire.EpochAck(last_logged_txid=0, current_epoch=0),
        A_EPOCH_ACK,
        A_EPOCH_ACK_SPEC_HEX,
    ),
    Golden("A-new-leader", wire.NewLeader(current_epoch=1), A_NEW_LEADER, A_NEW_LEADER_SPEC_HEX),
    Golden("A-new-leader-ack", wire.NewLeaderAck(), A_NEW_LEADER_ACK, A_NEW_LEADER_ACK_SPEC_HEX),
    Golden(
        "A-stream-begin",
        wire.LogEntry(txnid=0, op_code=5, key=wire.STREAM_BEGIN_KEY,
                      content=b"StreamBegin"),
        A_STREAM_BEGIN,
        A_STREAM_BEGIN_SPEC_HEX,
    ),
    Golden(
        "A-stream-end",
        wire.LogEntry(txnid=0, op_code=6, key=wire.STREAM_END_KEY,
                      content=b"StreamEnd"),
        A_STREAM_END,
        A_STREAM_END_SPEC_HEX,
    ),
    Golden(
        "A-log-entry",
        wire.LogEntry(txnid=T1, op_code=2, key="k", content=b"v"),
        A_LOG_ENTRY,
        A_LOG_ENTRY_SPEC_HEX,
    ),
    Golden(
        "A-request",
        wire.Request(req_id=42, op_code=2, key="k", content=b"v"),
        A_REQUEST,
        A_REQUEST_SPEC_HEX,
    ),
    Golden("A-abort", wire.Abort(req_id=42, fid=FID, error="oops"), A_ABORT, A_ABORT_SPEC_HEX),
    Golden(
        "A-response",
        wire.Response(req_id=42, fid=FID, error="No custom request handler", content=None),
        A_RESPONSE,
        A_RESPONSE_SPEC_HEX,
    ),
    Golden(
        "A-vote-solicit",
        wire.Vote(round=1, status=0, epoch=0, cnd_id="127.0.0.1:7001", cnd_logged_txn_id=0,
                  cnd_committed_txn_id=0, solicit=True),
        A_VOTE_SOLICIT,
        A_VOTE_SOLICIT_SPEC_HEX,
    ),
)

_GOLDEN_IDS = [g.id for g in GOLDEN]


def _body(frame: bytes) -> bytes:
    """The payload of a well-formed frame, cut by its own name_len."""
    (name_len,) = struct.unpack_from(">Q", frame, 8)
    return frame[16 + name_len :]


def roundtrip(data: bytes, msg: wire.Message) -> None:
    """Every codec entry point agrees that ``data`` is exactly ``msg`` (construct ``common()``)."""
    assert wire.encode(msg) == data
    assert wire.encode_body(msg) == _body(data)
    assert wire.decode(data) == msg
    assert wire.decode(data, strict=True) == msg
    assert wire.decode_body(type(msg).__name__, _body(data)) == msg
    assert wire.decode_body(type(msg).__name__, _body(data), strict=True) == msg
    found = wire.inspect(data)
    assert found.message == msg
    assert found.findings == ()


def test_spec_all_message_types_covered() -> None:
    """§2.4 and Appendix A together show every one of the 13 messages."""
    assert {type(g.message) for g in GOLDEN} == set(wire.MESSAGE_CLASSES)


@pytest.mark.parametrize("golden", GOLDEN, ids=_GOLDEN_IDS)
def test_spec_annotated_literal_matches_spec_hex(golden: Golden) -> None:
    """The annotated literal and the spec's hex dump are the same bytes, and lengths add up."""
    assert golden.frame == bytes.fromhex(golden.spec_hex)
    total_len, name_len = struct.unpack_from(">QQ", golden.frame)
    assert total_len == len(golden.frame) - 8
    assert golden.frame[16 : 16 + name_len] == type(golden.message).__name__.encode("ascii")


@pytest.mark.parametrize("golden", GOLDEN, ids=_GOLDEN_IDS)
def test_spec_frame_roundtrip(golden: Golden) -> None:
    """Spec §2.4 / Appendix A: encode gives the spec's bytes; every decoder gives the message."""
    roundtrip(golden.frame, golden.message)


@pytest.mark.parametrize("golden", GOLDEN, ids=_GOLDEN_IDS)
def test_spec_frame_as_datagram(golden: Golden) -> None:
    """Spec §1.3: a datagram is the same frame (total_len included)."""
    assert wire.decode_datagram(golden.frame) == golden.message
    assert wire.decode_datagram(golden.frame, strict=True) == golden.message


def test_spec_frames_with_wire_enums() -> None:
    """``wire`` exports OpCode and PeerStatus (IntEnums) for building messages; they encode
    exactly like the plain ints they are."""
    assert wire.encode(
        wire.Request(req_id=42, op_code=wire.OpCode.SET, key="k", content=b"v")
    ) == A_REQUEST
    assert wire.encode(
        wire.Vote(round=1, status=wire.PeerStatus.ELECTING, epoch=0, cnd_id="127.0.0.1:7001",
                  cnd_logged_txn_id=0, cnd_committed_txn_id=0, solicit=True)
    ) == A_VOTE_SOLICIT


def test_spec_frames_as_one_stream() -> None:
    """Spec §1.2: all examples back to back on one TCP stream, fed whole and byte by byte."""
    stream = b"".join(g.frame for g in GOLDEN)
    expected = [g.message for g in GOLDEN]
    assert wire.FrameDecoder().feed(stream) == expected
    decoder = wire.FrameDecoder(strict=True)
    got: list[wire.Message] = []
    for i in range(len(stream)):
        got += decoder.feed(stream[i : i + 1])
    assert got == expected


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0x100000001, "81 80 80 80 10"),
        (0x200000005, "85 80 80 80 20"),
        (0xFFFFFFFF, "ff ff ff ff 0f"),
        (2**64 - 1, "ff ff ff ff ff ff ff ff ff 01"),
    ],
)
def test_spec_useful_varints(value: int, encoded: str) -> None:
    """Appendix A's "useful varints", via the crafting tools and the hand-written writer."""
    assert wire.craft.varint(value) == bytes.fromhex(encoded)
    assert _uvarint(value) == bytes.fromhex(encoded)


# --------------------------------------------------------------------------
# Hand-assembled frames (miio build_msg style): no codec involved.
# --------------------------------------------------------------------------


def _uvarint(value: int) -> bytes:
    """Base-128 little-endian groups, high bit = more (protobuf varint)."""
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _vf(number: int, value: int) -> bytes:
    """A varint field: key (number << 3 | 0) then the value."""
    return _uvarint(number << 3) + _uvarint(value)


def _lf(number: int, value: bytes) -> bytes:
    """A length-delimited field: key (number << 3 | 2), length, bytes."""
    return _uvarint(number << 3 | 2) + _uvarint(len(value)) + value


def build_msg(name: str, payload: bytes) -> bytes:
    """Spec §1.1: total_len, name_len (u64 big-endian), name, payload."""
    raw_name = name.encode("ascii")
    return struct.pack(">QQ", 8 + len(raw_name) + len(payload), len(raw_name)) + raw_name + payload


U64 = 2**64 - 1
U32 = 2**32 - 1

HAND_ASSEMBLED: list[tuple[str, wire.Message, bytes]] = [
    (
        "proposal-extremes",
        wire.Proposal(txnid=U64, fid="", req_id=U64, op_code=U32, key="", content=b""),
        build_msg(
            "Proposal",
            _vf(1, 1) + _vf(2, U64) + _lf(3, b"") + _vf(4, U64) + _vf(5, U32) + _lf(6, b"")
            + _lf(7, b""),
        ),
    ),
    (
        "vote-max",
        wire.Vote(version=U32, round=U64, status=3, epoch=U32, cnd_id="[::1]:9999",
                  cnd_logged_txn_id=U64, cnd_committed_txn_id=0, solicit=True),
        build_msg(
            "Vote",
            _vf(1, U32) + _vf(2, U64) + _vf(3, 3) + _vf(4, U32) + _lf(5, b"[::1]:9999")
            + _vf(6, U64) + _vf(7, 0) + _vf(8, 1),
        ),
    ),
    (
        "request-utf8-and-binary",
        wire.Request(req_id=0x8000000000000000, op_code=51, key="ключ/✓",
                     content=bytes(range(256))),
        build_msg(
            "Request",
            _vf(1, 1) + _vf(2, 0x8000000000000000) + _vf(3, 51)
            + _lf(4, "ключ/✓".encode()) + _lf(5, bytes(range(256))),
        ),
    ),
    (
        "log-entry-invalid-utf8-key",
        wire.LogEntry(txnid=T1, op_code=3, key=b"\xff\xfe-k".decode("utf-8", "surrogateescape"),
                      content=b"\x00"),
        build_msg(
            "LogEntry",
            _vf(1, 1) + _vf(2, T1) + _vf(3, 3) + _lf(4, b"\xff\xfe-k") + _lf(5, b"\x00"),
        ),
    ),
    (
        "abort-empty-error",
        wire.Abort(req_id=1, fid=FID, error=""),
        build_msg("Abort", _vf(1, 1) + _vf(2, 1) + _lf(3, FID.encode()) + _lf(4, b"")),
    ),
    (
        "abort-no-error",
        wire.Abort(req_id=1, fid=FID, error=None),
        build_msg("Abort", _vf(1, 1) + _vf(2, 1) + _lf(3, FID.encode())),
    ),
    (
        "response-empty-content",
        wire.Response(req_id=2, fid=FID, error="", content=b""),
        build_msg(
            "Response",
            _vf(1, 1) + _vf(2, 2) + _lf(3, FID.encode()) + _lf(4, b"") + _lf(5, b""),
        ),
    ),
    (
        "response-content",
        wire.Response(req_id=2, fid=FID, error="e", content=b"\x01\x02"),
        build_msg(
            "Response",
            _vf(1, 1) + _vf(2, 2) + _lf(3, FID.encode()) + _lf(4, b"e") + _lf(5, b"\x01\x02"),
        ),
    ),
    (
        "follower-info-watcher",
        wire.FollowerInfo(accepted_epoch=7, fid=FID, voting=False),
        build_msg("FollowerInfo", _vf(1, 1) + _vf(2, 7) + _lf(3, FID.encode()) + _vf(4, 0)),
    ),
    (
        "log-entry-300-byte-content",
        wire.LogEntry(txnid=5, op_code=2, key="k" * 200, content=b"x" * 300),
        build_msg(
            "LogEntry",
            _vf(1, 1) + _vf(2, 5) + _vf(3, 2) + _lf(4, b"k" * 200) + _lf(5, b"x" * 300),
        ),
    ),
]


@pytest.mark.parametrize(
    ("msg", "frame"), [(m, f) for _, m, f in HAND_ASSEMBLED], ids=[i for i, _, _ in HAND_ASSEMBLED]
)
def test_hand_assembled_roundtrip(msg: wire.Message, frame: bytes) -> None:
    """Frames built here from spec §1.1/§2.2 alone match the codec both ways."""
    assert wire.encode(msg) == frame
    assert wire.decode(frame) == msg


def test_hand_assembled_matches_spec_frames() -> None:
    """The hand assembler reproduces two spec frames from the values in their prose."""
    assert build_msg(
        "Vote",
        _vf(1, 1) + _vf(2, 3) + _vf(3, 0) + _vf(4, 2) + _lf(5, b"127.0.0.1:5001")
        + _vf(6, 0x200000005) + _vf(7, 0x200000004) + _vf(8, 0),
    ) == SPEC_2_4_VOTE
    assert build_msg(
        "Response", _vf(1, 1) + _vf(2, 42) + _lf(3, FID.encode())
        + _lf(4, b"No custom request handler"),
    ) == A_RESPONSE


# --------------------------------------------------------------------------
# The golden capture: 504 frames from live Go nodes.
# --------------------------------------------------------------------------


def _load_capture() -> list[dict[str, Any]]:
    raw = FRAMES_JSON.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == FRAMES_SHA256, "capture file changed"
    frames: list[dict[str, Any]] = json.loads(raw)
    return frames


CAPTURE = _load_capture()


def _fields(msg: wire.Message) -> dict[str, object]:
    """The capture's rendering of a message: snake_case names, bytes as lowercase hex."""
    out: dict[str, object] = {}
    for f in fields(msg):
        value = getattr(msg, f.name)
        out[f.name] = value.hex() if isinstance(value, bytes) else value
    return out


def test_capture_inventory() -> None:
    """The capture holds the 504 frames its README lists, by type (gometa-3node.md §5)."""
    assert [f["index"] for f in CAPTURE] == list(range(504))
    assert Counter(f["name"] for f in CAPTURE) == {
        "Vote": 53, "FollowerInfo": 3, "LeaderInfo": 3, "EpochAck": 3, "LogEntry": 6,
        "NewLeader": 3, "NewLeaderAck": 3, "Request": 70, "Proposal": 120, "Accept": 120,
        "Commit": 120,
    }


@pytest.mark.parametrize("frame", CAPTURE, ids=[f"{f['index']}-{f['name']}" for f in CAPTURE])
def test_capture_frame(frame: dict[str, Any]) -> None:
    """A real Go frame decodes to its listed fields and re-encodes to its exact bytes."""
    data = bytes.fromhex(frame["hex"])
    assert len(data) == frame["len"]
    msg = wire.decode(data)
    assert type(msg).__name__ == frame["name"]
    assert wire.message_name(msg) == frame["name"]
    assert _fields(msg) == frame["fields"]
    assert wire.encode(msg) == data
    assert wire.inspect(data).findings == ()
    assert wire.decode(data, strict=True) == msg
    if frame["proto"] == "udp":
        assert wire.decode_datagram(data, strict=True) == msg


def test_capture_tcp_streams() -> None:
    """Each TCP direction of the capture, concatenated and re-cut, decodes in order."""
    streams: dict[str, list[dict[str, Any]]] = {}
    for frame in CAPTURE:
        if frame["proto"] == "tcp":
            streams.setdefault(frame["stream"], []).append(frame)
    assert streams
    for stream, frames in streams.items():
        data = b"".join(bytes.fromhex(f["hex"]) for f in frames)
        decoder = wire.FrameDecoder(strict=True)
        got: list[wire.Message] = []
        for i in range(0, len(data), 7):  # odd cuts: headers and bodies split across chunks
            got += decoder.feed(data[i : i + 7])
        assert [_fields(m) for m in got] == [f["fields"] for f in frames], stream
        assert decoder.buffered == 0
