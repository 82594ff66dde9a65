"""Differential tests against gometa's own decoder and encoder (the live arbiter).

``gometa-host -oracle`` runs gometa's real ``common.UnMarshall``/``Marshall``
on each frame. Where the spec marks decoder behaviour [I] (inferred), these
tests settle it: our default decoder must accept exactly what Go accepts,
with Go's values, and re-encode canonical input to Go's bytes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from harness.gometa_oracle import GoOracle, OracleResult
from tests.wire.strategies import messages, noncanonical_frames
from wire import craft
from wire._schema import SPECS, Kind

pytestmark = pytest.mark.gometa


@pytest.fixture(scope="module")
def oracle() -> Iterator[GoOracle]:
    with GoOracle() as running:
        yield running


def _ours(frame: bytes) -> wire.Message | wire.DecodeError:
    try:
        return wire.decode(frame)
    except wire.DecodeError as exc:
        return exc


def _as_oracle_fields(msg: wire.Message) -> dict[str, Any]:
    """Our message in the oracle's JSON shape (strings and bytes as hex)."""
    out: dict[str, Any] = {}
    for field in SPECS[wire.message_name(msg)].fields:
        value = getattr(msg, field.attr)
        if value is not None and field.kind is Kind.STRING:
            value = value.encode("utf-8", "surrogateescape").hex()
        elif value is not None and field.kind is Kind.BYTES:
            value = value.hex()
        out[field.attr] = value
    return out


_GETTER_ZERO = {Kind.UINT32: 0, Kind.UINT64: 0, Kind.BOOL: False, Kind.STRING: "", Kind.BYTES: ""}


def _as_getters(name: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Go's view through its getters: an absent required field reads as zero."""
    out = dict(fields)
    for field in SPECS[name].fields:
        if field.required and out.get(field.attr) is None:
            out[field.attr] = _GETTER_ZERO[field.kind]
    return out


def assert_agrees(frame: bytes, theirs: OracleResult) -> None:
    """Go and wire accept the same frames and read the same values."""
    ours = _ours(frame)
    if isinstance(ours, wire.DecodeError):
        assert not theirs.ok, f"Go accepts {frame.hex()} as {theirs.fields}, we say {ours}"
        return
    assert theirs.ok, f"Go rejects {frame.hex()} ({theirs.error}), we decode {ours}"
    assert theirs.name == wire.message_name(ours)
    assert theirs.fields is not None
    assert _as_getters(theirs.name, theirs.fields) == _as_oracle_fields(ours), frame.hex()
    if wire.inspect(frame).canonical:
        assert theirs.reencoded is not None
        assert wire.encode(ours) == frame
        assert frame[16 + len(theirs.name) :] == theirs.reencoded or frame == theirs.reencoded


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(messages(), min_size=1, max_size=20))
def test_canonical_frames_are_byte_identical_with_go(
    oracle: GoOracle, msgs: list[wire.Message]
) -> None:
    """Our encoder emits what gometa's Marshall emits, for every message type."""
    frames = [wire.encode(m) for m in msgs]
    for frame, theirs in zip(frames, oracle.decode_many(frames), strict=True):
        assert_agrees(frame, theirs)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(noncanonical_frames(), min_size=1, max_size=20))
def test_noncanonical_bodies_are_read_as_go_reads_them(
    oracle: GoOracle, frames: list[bytes]
) -> None:
    """Field order, repeats, unknown fields, wide varints, wrong wire types, overflow."""
    for frame, theirs in zip(frames, oracle.decode_many(frames), strict=True):
        assert_agrees(frame, theirs)


EDGE_CASES: dict[str, bytes] = {
    "group-skipped": craft.frame(
        "Commit",
        craft.body(
            [
                craft.RawField(1, 0, 1),
                craft.RawField(2, 0, 5),
                craft.RawField(9, 3, b""),
                craft.RawField(9, 4, b""),
            ]
        ),
    ),
    "group-mismatched": craft.frame(
        "Commit",
        craft.body(
            [
                craft.RawField(1, 0, 1),
                craft.RawField(2, 0, 5),
                craft.RawField(9, 3, b""),
                craft.RawField(8, 4, b""),
            ]
        ),
    ),
    "stray-end-group": craft.frame(
        "Commit",
        craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, 5), craft.RawField(9, 4, b"")]),
    ),
    "wire-type-6": craft.frame(
        "Commit",
        craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, 5), craft.RawField(9, 6, b"")]),
    ),
    "field-zero": craft.frame(
        "Commit",
        craft.body([craft.RawField(0, 0, 1), craft.RawField(1, 0, 1), craft.RawField(2, 0, 5)]),
    ),
    "varint-11-bytes": craft.frame(
        "Commit", craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, 5, varint_width=11)])
    ),
    "varint-10th-byte-2": craft.frame(
        "Commit", craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, 1 << 64)])
    ),
    "uint64-max": craft.frame(
        "Commit", craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, (1 << 64) - 1)])
    ),
    "uint32-overflow": craft.frame(
        "LeaderInfo", craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, (1 << 63) + 9)])
    ),
    "bool-300": craft.frame(
        "FollowerInfo",
        craft.body(
            [
                craft.RawField(1, 0, 1),
                craft.RawField(2, 0, 0),
                craft.RawField(3, 2, b"f"),
                craft.RawField(4, 0, 300),
            ]
        ),
    ),
    "invalid-utf8": craft.frame(
        "Accept",
        craft.body(
            [craft.RawField(1, 0, 1), craft.RawField(2, 0, 1), craft.RawField(3, 2, b"\xff\xc0")]
        ),
    ),
    "field-number-max": craft.frame(
        "Commit",
        craft.body(
            [craft.RawField(1, 0, 1), craft.RawField(2, 0, 5), craft.RawField((1 << 29) - 1, 0, 1)]
        ),
    ),
    "field-number-over-max": craft.frame(
        "Commit",
        craft.body(
            [craft.RawField(1, 0, 1), craft.RawField(2, 0, 5), craft.RawField(1 << 29, 0, 1)]
        ),
    ),
    "fixed32-truncated": craft.frame(
        "Commit",
        craft.body(
            [craft.RawField(1, 0, 1), craft.RawField(2, 0, 5), craft.RawField(9, 5, b"\x00")]
        ),
    ),
    "len-lies": craft.frame(
        "Accept",
        craft.body(
            [
                craft.RawField(1, 0, 1),
                craft.RawField(2, 0, 1),
                craft.RawField(3, 2, b"ab", length=9),
            ]
        ),
    ),
    "abort-no-error": craft.frame(
        "Abort",
        craft.body([craft.RawField(1, 0, 1), craft.RawField(2, 0, 1), craft.RawField(3, 2, b"f")]),
    ),
    "empty-body": craft.frame("NewLeaderAck", b""),
    "unknown-name": craft.frame("Bogus", b"\x08\x01"),
    "wrong-case": craft.frame("commit", b"\x08\x01\x10\x01"),
    "name-too-long": craft.frame("Commit", b"\x08\x01\x10\x01", name_len=2049),
    "total-too-large": craft.frame(
        "Commit", b"\x08\x01\x10\x01", total_len=wire.MAX_FRAME_TOTAL_LEN + 1
    ),
    "underflow": craft.frame("Vote", b"", total_len=4),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_match_go(oracle: GoOracle, name: str) -> None:
    """Each [I] claim of spec §2.1, settled against gometa itself."""
    frame = EDGE_CASES[name]
    assert_agrees(frame, oracle.decode(frame))


def test_random_mutations_match_go(oracle: GoOracle) -> None:
    """Bit flips and truncations of real frames: same verdict, same values."""
    rng = random.Random(20261126)
    seeds = [
        wire.encode(m)
        for m in (
            wire.Vote(
                round=1,
                status=0,
                epoch=2,
                cnd_id="127.0.0.1:5001",
                cnd_logged_txn_id=1 << 33,
                cnd_committed_txn_id=7,
                solicit=True,
            ),
            wire.Proposal(
                txnid=(1 << 32) + 1,
                fid="127.0.0.1:5002",
                req_id=1 << 60,
                op_code=2,
                key="k",
                content=b"v",
            ),
            wire.Response(req_id=42, fid="f", error="e", content=b"c"),
        )
    ]
    frames = []
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 3)):
            pos = rng.randrange(16, len(data))
            data[pos] ^= 1 << rng.randrange(8)
        frames.append(bytes(data))
    for frame, theirs in zip(frames, oracle.decode_many(frames), strict=True):
        assert_agrees(frame, theirs)
