"""Fuzzing the decoders: bad input never crashes, and work grows linearly.

House style §9 (h11 ``fuzz/afl-server.py``): whatever bytes arrive, ``decode``,
``decode_datagram``, ``inspect``/``inspect_datagram`` and ``FrameDecoder``
either return messages or raise ``DecodeError`` (with a machine-readable
``reason``, an ``offset`` and a ``path``); any other exception is a bug.
Inputs are real and random frames damaged by bit flips, truncations, splices,
renames and lying length fields, then fed whole and in random chunk sizes.

The complexity tests guard against quadratic decoding (spec W4 is Go's own
quadratic trickle read): a deterministic count of Python calls must scale by
about 8 for an input 8 times larger, and so must wall time, measured as the
best of several runs and retried, with a bound (20x) far below quadratic (64x)
so a noisy 2-core machine cannot fail it by accident.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import wire
from harness.bench.pb_oracle import SCHEMA
from wire.craft import RawField

CAPTURE = Path(__file__).resolve().parent.parent / "testdata" / "captures"
CAPTURED: list[bytes] = [
    bytes.fromhex(f["hex"])
    for f in json.loads((CAPTURE / "gometa-3node.frames.json").read_text(encoding="utf-8"))
]
CLASSES = {cls.__name__: cls for cls in wire.MESSAGE_CLASSES}
NAMES = sorted(CLASSES)
U64 = 2**64 - 1

FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------

_KIND: dict[str, st.SearchStrategy[Any]] = {
    "uint32": st.integers(0, 2**32 - 1),
    "uint64": st.integers(0, U64),
    "bool": st.booleans(),
    "string": st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")),
    "bytes": st.binary(max_size=60),
}


@st.composite
def messages(draw: st.DrawFn) -> wire.Message:
    """Any message of any type, with any in-range values."""
    name = draw(st.sampled_from(NAMES))
    values: dict[str, Any] = {}
    for spec in SCHEMA[name]:
        strategy = _KIND[spec.kind]
        values[spec.name] = draw(st.none() | strategy if spec.optional else strategy)
    msg: wire.Message = CLASSES[name](**values)
    return msg


def frames() -> st.SearchStrategy[bytes]:
    """A valid frame: captured from Go or freshly encoded."""
    return st.sampled_from(CAPTURED) | messages().map(wire.encode)


def _lie_total_len(rng: random.Random, data: bytearray) -> None:
    real = len(data) - 8
    value = rng.choice(
        [
            0,
            1,
            7,
            8,
            16,
            real - 1,
            real + 1,
            real + rng.randint(2, 9999),
            wire.MAX_FRAME_TOTAL_LEN,
            wire.MAX_FRAME_TOTAL_LEN + 1,
            U64,
            rng.randint(0, U64),
        ]
    )
    data[0:8] = (value % 2**64).to_bytes(8, "big")


def _lie_name_len(rng: random.Random, data: bytearray) -> None:
    if len(data) < 16:
        return
    real = int.from_bytes(data[8:16], "big")
    value = rng.choice(
        [
            0,
            1,
            real - 1,
            real + 1,
            wire.MAX_NAME_LEN,
            wire.MAX_NAME_LEN + 1,
            U64,
            2**63,
            rng.randint(0, U64),
        ]
    )
    data[8:16] = (value % 2**64).to_bytes(8, "big")


def _rename(rng: random.Random, data: bytearray) -> None:
    """Another registered name (the body no longer fits), or an unknown one; lengths fixed up."""
    if len(data) < 16:
        return
    name_len = int.from_bytes(data[8:16], "big")
    if 16 + name_len > len(data):
        return
    body = bytes(data[16 + name_len :])
    name = rng.choice([*NAMES, "vote", "Votes", "", "\u00e9", "X" * 2049])
    data[:] = wire.craft.frame(name.encode("utf-8"), body)


def _flip(rng: random.Random, data: bytearray) -> None:
    if data:
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)


def _poke(rng: random.Random, data: bytearray) -> None:
    if data:
        data[rng.randrange(len(data))] = rng.choice([0x00, 0x0B, 0x0C, 0x7F, 0x80, 0xFF])


def _truncate(rng: random.Random, data: bytearray) -> None:
    del data[rng.randint(0, len(data)) :]


def _append(rng: random.Random, data: bytearray) -> None:
    data += rng.randbytes(rng.randint(1, 12))


def _insert(rng: random.Random, data: bytearray) -> None:
    i = rng.randint(0, len(data))
    data[i:i] = rng.randbytes(rng.randint(1, 6))


def _splice(rng: random.Random, data: bytearray) -> None:
    other = rng.choice(CAPTURED)
    i, j = rng.randint(0, len(data)), rng.randint(0, len(other))
    data[i:] = other[j:]


def _grow_body(rng: random.Random, data: bytearray) -> None:
    """Pad the body past the UDP read buffer (1000 bytes) with unknown fields."""
    data += RawField(rng.randint(9, 99), 2, rng.randbytes(rng.randint(900, 1500))).to_bytes()


MUTATIONS: tuple[Callable[[random.Random, bytearray], None], ...] = (
    _lie_total_len,
    _lie_name_len,
    _rename,
    _flip,
    _poke,
    _truncate,
    _append,
    _insert,
    _splice,
    _grow_body,
)


@st.composite
def damaged_frames(draw: st.DrawFn) -> bytes:
    """A valid frame with 0-4 mutations applied."""
    data = bytearray(draw(frames()))
    rng = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(0, 4))):
        rng.choice(MUTATIONS)(rng, data)
    return bytes(data)


def any_input() -> st.SearchStrategy[bytes]:
    """Damaged frames, plus raw noise with a plausible header now and then."""
    noise = st.binary(max_size=200)
    headed = st.tuples(st.integers(0, 300), st.integers(0, 20), st.binary(max_size=120)).map(
        lambda t: t[0].to_bytes(8, "big") + t[1].to_bytes(8, "big") + t[2]
    )
    return damaged_frames() | noise | headed


# --------------------------------------------------------------------------
# Only DecodeError
# --------------------------------------------------------------------------


def _check_error(exc: wire.DecodeError) -> None:
    assert isinstance(exc.reason, str) and exc.reason
    assert isinstance(exc.offset, int) and exc.offset >= 0
    assert isinstance(exc.path, str) and exc.path


def _attempt(fn: Callable[[], Any]) -> Any:
    """``fn()``'s result, or None after checking that it raised a well-formed DecodeError."""
    try:
        return fn()
    except wire.DecodeError as exc:
        _check_error(exc)
        return None


@FUZZ
@given(any_input())
def test_fuzz_decode_raises_only_decode_error(data: bytes) -> None:
    """decode / strict decode / inspect agree with each other and raise only DecodeError."""
    lenient = _attempt(lambda: wire.decode(data))
    strict = _attempt(lambda: wire.decode(data, strict=True))
    inspected = _attempt(lambda: wire.inspect(data))
    assert (lenient is None) == (inspected is None)
    if strict is not None:
        assert strict == lenient
    if inspected is not None:
        assert inspected.message == lenient
        assert (strict is not None) == (inspected.findings == ())
    if lenient is not None:  # what we accept, we can re-encode, and that reads back the same
        canonical = wire.encode(lenient)
        assert wire.decode(canonical) == lenient
        kinds = {f.kind for f in wire.inspect(canonical).findings}
        value_level = {"unexpected_version", "missing_optional_error", "invalid_utf8"}
        assert kinds <= value_level  # encoding-level findings never survive a re-encode


@FUZZ
@given(any_input())
def test_fuzz_decode_datagram_raises_only_decode_error(data: bytes) -> None:
    """decode_datagram / strict / inspect_datagram raise only DecodeError, and agree."""
    lenient = _attempt(lambda: wire.decode_datagram(data))
    strict = _attempt(lambda: wire.decode_datagram(data, strict=True))
    inspected = _attempt(lambda: wire.inspect_datagram(data))
    assert (lenient is None) == (inspected is None)
    if strict is not None:
        assert strict == lenient
    if inspected is not None:
        assert inspected.message == lenient
        assert (strict is not None) == (inspected.findings == ())
    # Go reads only the first 1000 bytes and ignores total_len (spec §1.3).
    if len(data) > wire.MAX_DATAGRAM_SIZE:
        assert _attempt(lambda: wire.decode_datagram(data[: wire.MAX_DATAGRAM_SIZE])) == lenient


@FUZZ
@given(st.sampled_from([*NAMES, "Nope", ""]), st.binary(max_size=200), st.booleans())
def test_fuzz_decode_body_raises_only_decode_error(name: str, body: bytes, strict: bool) -> None:
    """decode_body with any name and any body raises only DecodeError."""
    _attempt(lambda: wire.decode_body(name, body, strict=strict))


def _feed_all(
    chunks: list[bytes], strict: bool
) -> tuple[list[wire.Message], tuple[str, int] | None, int]:
    """Messages, the first error's (reason, offset) and bytes left buffered."""
    decoder = wire.FrameDecoder(strict=strict)
    out: list[wire.Message] = []
    for chunk in chunks:
        try:
            out += decoder.feed(chunk)
        except wire.DecodeError as exc:
            _check_error(exc)
            out += exc.decoded_before
            with pytest.raises(wire.DecodeError):  # a failed stream stays failed
                decoder.feed(b"\x00")
            return out, (exc.reason, exc.offset), 0
    return out, None, decoder.buffered


def _cut(data: bytes, rng: random.Random) -> list[bytes]:
    chunks, pos = [], 0
    while pos < len(data):
        size = rng.choice([1, 1, 2, 3, 7, 8, 15, 16, 17, rng.randint(1, 300)])
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


@FUZZ
@given(
    st.lists(frames(), min_size=1, max_size=6),
    st.lists(damaged_frames(), max_size=2),
    st.randoms(use_true_random=False),
    st.booleans(),
)
def test_fuzz_frame_decoder_chunking_invariant(
    good: list[bytes], bad: list[bytes], rng: random.Random, strict: bool
) -> None:
    """FrameDecoder raises only DecodeError, and the outcome does not depend on chunking."""
    parts = good + bad
    rng.shuffle(parts)
    stream = b"".join(parts)
    whole = _feed_all([stream], strict)
    assert _feed_all(_cut(stream, rng), strict) == whole
    if len(stream) <= 600:
        assert _feed_all([stream[i : i + 1] for i in range(len(stream))], strict) == whole
    if not bad and not strict:
        assert whole[1:] == (None, 0)
        assert whole[0] == [wire.decode(f) for f in parts]


@FUZZ
@given(st.lists(frames(), min_size=1, max_size=8), st.randoms(use_true_random=False))
def test_fuzz_frame_decoder_valid_streams(good: list[bytes], rng: random.Random) -> None:
    """Valid frames come out whole and in order, however the stream is cut."""
    stream = b"".join(good)
    messages, error, buffered = _feed_all(_cut(stream, rng), strict=False)
    assert error is None and buffered == 0
    assert messages == [wire.decode(f) for f in good]


@pytest.mark.parametrize("depth", [1, 100, 1500, 9000])
def test_fuzz_nested_groups_skipped_without_recursion(depth: int) -> None:
    """Nested unknown groups within protobuf-go's limit are skipped, not recursed into."""
    group = b"\x4b" * depth + b"\x4c" * depth  # field 9, start ... end
    assert wire.decode_body("NewLeaderAck", b"\x08\x01" + group) == wire.NewLeaderAck()


@pytest.mark.parametrize("depth", [20_000, 1_000_000])
def test_fuzz_nested_groups_too_deep(depth: int) -> None:
    """Far beyond protobuf-go's recursion limit (10 000): a DecodeError, never RecursionError."""
    body = b"\x08\x01" + b"\x4b" * depth + b"\x4c" * depth
    with pytest.raises(wire.DecodeError):
        wire.decode_body("NewLeaderAck", body)
    frame = wire.craft.frame("NewLeaderAck", body)
    with pytest.raises(wire.DecodeError):
        wire.FrameDecoder().feed(frame)
    with pytest.raises(wire.DecodeError):
        wire.inspect(frame)


def test_fuzz_frame_decoder_rejects_lies_early() -> None:
    """A lying header fails as soon as its 8 or 16 bytes arrive, not after waiting for a body."""
    with pytest.raises(wire.DecodeError) as info:
        wire.FrameDecoder().feed((wire.MAX_FRAME_TOTAL_LEN + 1).to_bytes(8, "big"))
    assert info.value.offset == 0
    header = (100).to_bytes(8, "big") + (wire.MAX_NAME_LEN + 1).to_bytes(8, "big")
    with pytest.raises(wire.DecodeError):
        wire.FrameDecoder().feed(header)
    decoder = wire.FrameDecoder()  # exactly 20 MiB is allowed: it just waits for the rest
    assert decoder.feed(wire.MAX_FRAME_TOTAL_LEN.to_bytes(8, "big") + (4).to_bytes(8, "big")) == []


# --------------------------------------------------------------------------
# Linear time
# --------------------------------------------------------------------------


def _many_unknown_fields(count: int) -> bytes:
    """A Commit frame followed by ``count`` unknown varint fields (forces the general path)."""
    unknown = RawField(9, 0, 300).to_bytes() * count
    return wire.craft.frame("Commit", wire.encode_body(wire.Commit(txnid=1)) + unknown)


def _many_duplicates(count: int) -> bytes:
    """A Vote frame whose cnd_id is repeated ``count`` times (last wins, every one a finding)."""
    fields = wire.craft.fields_of(
        wire.Vote(
            round=1,
            status=0,
            epoch=1,
            cnd_id="a",
            cnd_logged_txn_id=0,
            cnd_committed_txn_id=0,
            solicit=False,
        )
    )
    dup = RawField(5, 2, b"127.0.0.1:32010").to_bytes() * count
    return wire.craft.frame("Vote", wire.craft.body(fields) + dup)


def _big_content(size: int) -> bytes:
    return wire.encode(wire.LogEntry(txnid=1, op_code=2, key="k", content=b"\xab" * size))


def _stream_of_frames(count: int) -> bytes:
    return b"".join(CAPTURED[i % len(CAPTURED)] for i in range(count))


def _feed_bytewise(data: bytes) -> None:
    decoder = wire.FrameDecoder()
    feed = decoder.feed
    for i in range(len(data)):
        feed(data[i : i + 1])


def _feed_whole(data: bytes) -> None:
    wire.FrameDecoder().feed(data)


Workload = tuple[str, Callable[[int], bytes], Callable[[bytes], object], int]

WORKLOADS: list[Workload] = [
    ("decode-unknown-fields", _many_unknown_fields, wire.decode, 4_000),
    ("inspect-unknown-fields", _many_unknown_fields, wire.inspect, 2_000),
    ("inspect-duplicates", _many_duplicates, wire.inspect, 1_000),
    ("decode-duplicates", _many_duplicates, wire.decode, 2_000),
    ("decode-big-content", _big_content, wire.decode, 50_000),
    ("stream-many-frames", _stream_of_frames, _feed_whole, 1_000),
    ("stream-bytewise", _big_content, _feed_bytewise, 12_000),
]
SCALE = 8
TIME_BOUND = 16.0
"""Linear is 8x, quadratic 64x (in practice 20-35x at these sizes, where fixed per-call
costs still weigh); 16x leaves room for caches and noise, and each test retries."""
CALL_BOUND = 10.0
"""Call counts are exact: linear work gives 8x plus a small constant."""


def _count_calls(fn: Callable[[bytes], object], data: bytes) -> int:
    """Python and C function calls made by ``fn(data)``: a deterministic work measure."""
    calls = 0

    def profiler(frame: FrameType, event: str, arg: object) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        fn(data)
    finally:
        sys.setprofile(None)
    return calls


def _best_time(fn: Callable[[bytes], object], data: bytes, loops: int, runs: int = 5) -> float:
    """Best of ``runs`` timings of ``loops`` calls, in seconds per call."""
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(loops):
            fn(data)
        best = min(best, time.perf_counter() - start)
    return best / loops


def _loops_for(fn: Callable[[bytes], object], data: bytes, target: float = 0.005) -> int:
    """Calls needed for one timing of ``data`` to last about ``target`` seconds."""
    start = time.perf_counter()
    fn(data)
    return max(1, int(target / max(time.perf_counter() - start, 1e-7)))


@pytest.mark.parametrize(
    ("make", "fn", "n"), [w[1:] for w in WORKLOADS], ids=[w[0] for w in WORKLOADS]
)
def test_fuzz_linear_call_count(
    make: Callable[[int], bytes], fn: Callable[[bytes], object], n: int
) -> None:
    """Deterministic: 8x the input costs at most ~8x the function calls."""
    if fn is _feed_bytewise:
        n //= 8  # a profiled byte-by-byte feed is slow; the ratio is what matters
    small, large = _count_calls(fn, make(n)), _count_calls(fn, make(SCALE * n))
    assert large <= CALL_BOUND * small + 100, f"{small} calls -> {large} calls for 8x input"


@pytest.mark.parametrize(
    ("make", "fn", "n"), [w[1:] for w in WORKLOADS], ids=[w[0] for w in WORKLOADS]
)
def test_fuzz_linear_time(
    make: Callable[[int], bytes], fn: Callable[[bytes], object], n: int
) -> None:
    """Wall time (best of 5, up to 3 tries): 8x the input costs well under 64x the time.

    This catches quadratic copying that call counts cannot see (re-slicing a
    buffer per field or per chunk).
    """
    small_data, large_data = make(n), make(SCALE * n)
    loops = _loops_for(fn, small_data)
    ratios = []
    for _ in range(3):
        ratio = _best_time(fn, large_data, loops) / _best_time(fn, small_data, SCALE * loops)
        ratios.append(ratio)
        if ratio < TIME_BOUND:
            return
    pytest.fail(f"8x input took {min(ratios):.1f}x the time (tries: {ratios})")
