"""``gometa-host -oracle`` through ``GoOracle``: gometa's own decode and
re-encode of whole TCP frames, for differential tests of ``wire``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import wire
from harness.gometa_oracle import GoOracle

pytestmark = pytest.mark.gometa

# Spec §2.4: Vote round=3, ELECTING, epoch 2, cndId 127.0.0.1:5001.
VOTE_FRAME = bytes.fromhex(
    "0000000000000032"
    "0000000000000004"
    "566f7465"
    "08011003180020022a0e3132372e302e302e313a3530303130858080802038848080802040"
    "00"
)
CAPTURE = (
    Path(__file__).resolve().parent.parent / "testdata" / "captures" / "gometa-3node.frames.json"
)


@pytest.fixture(scope="module")
def oracle(gohost_binary: Path) -> Iterator[GoOracle]:
    with GoOracle(gohost_binary) as o:
        yield o


def test_GoOracle_decodes_spec_vote_example(oracle: GoOracle) -> None:
    got = oracle.decode(VOTE_FRAME)
    assert got.ok and got.name == "Vote"
    assert got.fields == {
        "version": 1,
        "round": 3,
        "status": 0,
        "epoch": 2,
        "cnd_id": b"127.0.0.1:5001".hex(),
        "cnd_logged_txn_id": 0x200000005,
        "cnd_committed_txn_id": 0x200000004,
        "solicit": False,
    }
    assert got.reencoded == VOTE_FRAME


def test_GoOracle_optional_absent_is_none_and_big_uint64_exact(oracle: GoOracle) -> None:
    """Response.content absent (Go nil) is null; a uint64 above 2**53 stays exact."""
    frame = wire.encode(wire.Response(req_id=2**64 - 1, fid="f", error="", content=None))
    got = oracle.decode(frame)
    assert got.ok and got.fields is not None
    assert got.fields["content"] is None
    assert got.fields["req_id"] == 2**64 - 1
    assert got.reencoded == frame


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"\x00" * 8 + (4).to_bytes(8, "big") + b"Nope" + b"\x08\x01", "Unrecognize packet type"),
        ((12).to_bytes(8, "big") + (4).to_bytes(8, "big") + b"Vote", "Invalid remaining size 0"),
        ((2**30).to_bytes(8, "big") + (4).to_bytes(8, "big") + b"Vote", "Invalid size"),
        ((14).to_bytes(8, "big") + (4000).to_bytes(8, "big"), "Invalid type length"),
    ],
)
def test_GoOracle_rejects_like_the_tcp_path(oracle: GoOracle, frame: bytes, error: str) -> None:
    got = oracle.decode(frame)
    assert not got.ok
    assert got.error is not None and error in got.error


def test_GoOracle_reencodes_every_golden_frame_byte_identically(oracle: GoOracle) -> None:
    """All 504 frames of the golden capture (UDP ones included: same framing)."""
    frames = json.loads(CAPTURE.read_text())
    results = oracle.decode_many(bytes.fromhex(f["hex"]) for f in frames)
    for f, got in zip(frames, results, strict=True):
        assert got.ok, (f["index"], got.error)
        assert got.name == f["name"]
        assert got.reencoded == bytes.fromhex(f["hex"])


def test_GoOracle_is_fast_for_thousands_of_frames(oracle: GoOracle) -> None:
    frames = [
        wire.encode(
            wire.Proposal(
                txnid=i,
                fid="127.0.0.1:1",
                req_id=i,
                op_code=2,
                key=f"k{i}",
                content=b"v" * (i % 50),
            )
        )
        for i in range(5000)
    ]
    t0 = time.monotonic()
    results = oracle.decode_many(frames)
    assert time.monotonic() - t0 < 10
    assert all(r.ok and r.reencoded == f for r, f in zip(results, frames, strict=True))


def test_GoOracle_accepts_missing_required_fields(oracle: GoOracle) -> None:
    """Live finding, contrary to spec §2.1's [I] claim: gometa's decoder
    (golang/protobuf 1.5.4 on google.golang.org/protobuf 1.36.11, legacy
    messages) does not reject a body that lacks required fields, and
    re-marshals it as is. Absent fields come back as None."""
    frame = (14).to_bytes(8, "big") + (4).to_bytes(8, "big") + b"Vote\x08\x01"
    got = oracle.decode(frame)
    assert got.ok and got.name == "Vote" and got.fields is not None
    assert got.fields["version"] == 1
    assert got.fields["round"] is None and got.fields["cnd_id"] is None
    assert got.reencoded == frame
