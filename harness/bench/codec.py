"""Codec benchmark: µs per encode+decode of each message type, wire vs Google protobuf.

Three implementations are timed on the same protobuf body per type:

* ``wire``: ``wire.encode_body`` + ``wire.decode_body`` (default, Go-lenient path);
* ``strict``: the same encode + ``decode_body(strict=True)`` (the general path
  that also looks for non-canonical encodings);
* ``protobuf``: Google's runtime on dynamic descriptors (``pb_oracle``):
  construct + ``SerializeToString``, then ``ParseFromString`` (which, like
  gometa's Go runtime, does not insist on required fields).

Bodies rather than frames are compared because protobuf knows nothing of the
16-byte gometa header. Measurements are interleaved: every repeat times one
batch of every (type, implementation, operation) in a freshly shuffled order,
and the best batch is kept, so a noisy neighbour on a small machine hits all
columns alike instead of one.
"""

from __future__ import annotations

import platform
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

import wire
from harness.bench import pb_oracle
from harness.bench.base import BenchOptions, BenchResult, Column, PlotSpec, Row, Scalar

_FID: Final = "127.0.0.1:32011"
_T1: Final = wire.make_txid(1, 1)

SAMPLES: Final[tuple[wire.Message, ...]] = (
    wire.Proposal(
        txnid=_T1, fid=_FID, req_id=0x9E3779B97F4A7C15, op_code=2, key="k00", content=b"v00"
    ),
    wire.Accept(txnid=_T1, fid=_FID),
    wire.Commit(txnid=_T1),
    wire.Vote(
        round=2,
        status=0,
        epoch=1,
        cnd_id="127.0.0.1:32020",
        cnd_logged_txn_id=wire.make_txid(1, 50),
        cnd_committed_txn_id=wire.make_txid(1, 50),
        solicit=False,
    ),
    wire.FollowerInfo(accepted_epoch=1, fid=_FID, voting=True),
    wire.EpochAck(last_logged_txid=wire.make_txid(1, 50), current_epoch=1),
    wire.LeaderInfo(accepted_epoch=2),
    wire.NewLeader(current_epoch=2),
    wire.NewLeaderAck(),
    wire.LogEntry(txnid=_T1, op_code=2, key="k00", content=b"v00" * 20),
    wire.Request(req_id=0x9E3779B97F4A7C15, op_code=2, key="k00", content=b"v00"),
    wire.Abort(req_id=42, fid=_FID, error="oops"),
    wire.Response(req_id=42, fid=_FID, error="", content=b"custom reply"),
)
"""One realistic message per type, values shaped like the golden capture."""

IMPLS: Final = ("wire", "strict", "protobuf")
OPS: Final = ("enc", "dec")

DEFAULT_ITERATIONS: Final = 2000
DEFAULT_REPEATS: Final = 7
SMOKE_ITERATIONS: Final = 3
SMOKE_REPEATS: Final = 1


def _values(msg: wire.Message) -> dict[str, pb_oracle.Value]:
    return {f.name: getattr(msg, f.name) for f in fields(msg)}


def _operations(msg: wire.Message, with_pb: bool) -> dict[tuple[str, str], Callable[[], object]]:
    """The timed closures for one message, keyed by (implementation, operation)."""
    name = type(msg).__name__
    body = wire.encode_body(msg)
    ops: dict[tuple[str, str], Callable[[], object]] = {
        ("wire", "enc"): lambda: wire.encode_body(msg),
        ("wire", "dec"): lambda: wire.decode_body(name, body),
        ("strict", "enc"): lambda: wire.encode_body(msg),
        ("strict", "dec"): lambda: wire.decode_body(name, body, strict=True),
    }
    if with_pb:
        cls = pb_oracle.message_classes()[name]
        kwargs = {
            spec.proto_name: value
            for spec in pb_oracle.SCHEMA[name]
            if (value := _values(msg)[spec.name]) is not None
        }

        def pb_encode() -> bytes:
            data: bytes = cls(**kwargs).SerializeToString()
            return data

        def pb_decode() -> Any:
            parsed = cls()
            parsed.ParseFromString(body)
            return parsed

        ops[("protobuf", "enc")] = pb_encode
        ops[("protobuf", "dec")] = pb_decode
    return ops


def _time_batch(fn: Callable[[], object], iterations: int) -> float:
    """µs per call over one batch."""
    start = time.perf_counter_ns()
    for _ in range(iterations):
        fn()
    return (time.perf_counter_ns() - start) / iterations / 1000.0


def measure(
    ops: Mapping[str, Mapping[tuple[str, str], Callable[[], object]]],
    *,
    iterations: int,
    repeats: int,
    rng: random.Random,
) -> dict[tuple[str, str, str], float]:
    """Best µs per call for every (type, impl, op), all measured interleaved."""
    keys = [(t, impl, op) for t, per in ops.items() for (impl, op) in per]
    for t, impl, op in keys:  # warm up caches and lazy imports outside the timing
        ops[t][(impl, op)]()
    best: dict[tuple[str, str, str], float] = {}
    for _ in range(repeats):
        rng.shuffle(keys)
        for key in keys:
            t, impl, op = key
            us = _time_batch(ops[t][(impl, op)], iterations)
            best[key] = min(us, best.get(key, us))
    return best


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


COLUMNS: Final = (
    Column(key="type", header="type"),
    Column(key="body_bytes", header="body", unit="B", fmt="d"),
    Column(key="wire_enc_us", header="wire enc", unit="µs", fmt=".2f", table=False),
    Column(key="wire_dec_us", header="wire dec", unit="µs", fmt=".2f", table=False),
    Column(key="strict_dec_us", header="strict dec", unit="µs", fmt=".2f", table=False),
    Column(key="pb_enc_us", header="pb enc", unit="µs", fmt=".2f", table=False),
    Column(key="pb_dec_us", header="pb dec", unit="µs", fmt=".2f", table=False),
    Column(key="wire_us", header="wire", unit="µs", fmt=".2f"),
    Column(key="strict_us", header="strict", unit="µs", fmt=".2f"),
    Column(key="pb_us", header="protobuf", unit="µs", fmt=".2f"),
    Column(key="ratio", header="wire/pb", fmt=".2f"),
    Column(key="ratio_strict", header="strict/pb", fmt=".2f"),
    Column(key="same_bytes", header="same bytes"),
)
"""Times are µs per encode+decode (``*_us``) or per operation (``*_enc_us``, ``*_dec_us``)."""


@dataclass(frozen=True, slots=True)
class CodecBenchmark:
    """The ``codec`` benchmark (see the module docstring)."""

    name: str = "codec"
    description: str = "encode+decode µs per message type, wire vs Google protobuf"

    def run(self, options: BenchOptions) -> BenchResult:
        """Time every sample message with every implementation, interleaved."""
        iterations = options.iterations or (
            SMOKE_ITERATIONS if options.smoke else DEFAULT_ITERATIONS
        )
        repeats = options.repeats or (SMOKE_REPEATS if options.smoke else DEFAULT_REPEATS)
        with_pb = pb_oracle.available()
        notes: list[str] = [
            "bodies only (no 16-byte gometa header); best batch of each repeat kept",
            "protobuf dec = ParseFromString only (lazy field access; no required-field check, "
            "like gometa's Go runtime)",
        ]
        environment: dict[str, Scalar] = {
            "python": f"{platform.python_implementation()} {platform.python_version()}",
        }
        if with_pb:
            environment["protobuf"] = pb_oracle.runtime_description()
        else:
            notes.insert(
                0,
                "protobuf is NOT installed: protobuf columns and ratios are empty "
                "(pip install protobuf, or the [test] extra)",
            )
            environment["protobuf"] = "not installed"
        ops = {type(m).__name__: _operations(m, with_pb) for m in SAMPLES}
        best = measure(ops, iterations=iterations, repeats=repeats, rng=random.Random(options.seed))
        rows = tuple(self._row(m, best, with_pb) for m in SAMPLES)
        return BenchResult(
            name=self.name,
            description=self.description,
            columns=COLUMNS,
            rows=rows,
            environment=environment,
            parameters={"iterations": iterations, "repeats": repeats, "seed": options.seed},
            notes=tuple(notes),
            plots=(
                PlotSpec(
                    filename="codec.png",
                    title="codec: encode+decode per message",
                    x="type",
                    y=("wire_us", "strict_us", "pb_us"),
                    ylabel="µs",
                ),
            ),
            smoke=options.smoke,
        )

    @staticmethod
    def _row(msg: wire.Message, best: Mapping[tuple[str, str, str], float], with_pb: bool) -> Row:
        t = type(msg).__name__
        body = wire.encode_body(msg)

        def get(impl: str, op: str) -> float | None:
            return best.get((t, impl, op))

        def total(impl: str) -> float | None:
            enc, dec = get(impl, "enc"), get(impl, "dec")
            return None if enc is None or dec is None else enc + dec

        same: bool | None = None
        if with_pb:
            same = pb_oracle.encode_values(t, _values(msg)) == body
        return {
            "type": t,
            "body_bytes": len(body),
            "wire_enc_us": get("wire", "enc"),
            "wire_dec_us": get("wire", "dec"),
            "strict_dec_us": get("strict", "dec"),
            "pb_enc_us": get("protobuf", "enc"),
            "pb_dec_us": get("protobuf", "dec"),
            "wire_us": total("wire"),
            "strict_us": total("strict"),
            "pb_us": total("protobuf"),
            "ratio": _ratio(total("wire"), total("protobuf")),
            "ratio_strict": _ratio(total("strict"), total("protobuf")),
            "same_bytes": same,
        }


BENCHMARK: Final = CodecBenchmark()
