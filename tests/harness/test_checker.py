"""harness.checker: each kind of damage it exists to catch is caught, and only that.

The checker judges every crash test, so it is tested on hand-made states:
a clean ensemble passes; divergence, a lost acknowledged write, a write at
the wrong txid, a stale watermark and data that disagrees with the log fail,
each with a message naming the member.
"""

from __future__ import annotations

from typing import Any

import pytest

from harness import checker
from harness.checker import CheckError, Write
from wire import OpCode, make_txid

T1, T2, T3 = (make_txid(1, n) for n in (1, 2, 3))


def entry(
    txid: int, key: str, value: bytes, *, op: int = OpCode.SET, committed: bool = True
) -> dict[str, Any]:
    return {
        "txid": txid,
        "op_code": int(op),
        "key": key,
        "content_hex": value.hex(),
        "committed": committed,
    }


def state(*entries: dict[str, Any], data: dict[str, bytes] | None = None) -> dict[str, Any]:
    committed = [e for e in entries if e["committed"]]
    return {
        "last_committed_txid": max((e["txid"] for e in committed), default=0),
        "log": list(entries),
        "data_hex": {k: v.hex() for k, v in (data if data is not None else {}).items()},
    }


GOOD = state(entry(T1, "a", b"1"), entry(T2, "b", b"2"), data={"a": b"1", "b": b"2"})
ACKS = [
    Write(op_code=OpCode.SET, key="a", value=b"1", txid=T1),
    Write(op_code=OpCode.SET, key="b", value=b"2"),
]


def problems_of(
    states: dict[str, dict[str, Any]], acked: list[Write] = ACKS, **kw: bool
) -> list[str]:
    with pytest.raises(CheckError) as info:
        checker.check(states, acked, **kw)
    return info.value.problems


def test_check_passes_an_agreeing_ensemble() -> None:
    checker.check({"m1": GOOD, "m2": GOOD, "m3": GOOD}, ACKS, replayed=True)
    lagging = state(entry(T1, "a", b"1"), entry(T2, "b", b"2", committed=False), data={"a": b"1"})
    checker.check({"m1": GOOD, "m2": lagging}, ACKS[:1], settled=False)


def test_check_catches_divergence() -> None:
    other = state(entry(T1, "a", b"1"), entry(T2, "b", b"X"), data={"a": b"1", "b": b"X"})
    found = problems_of({"m1": GOOD, "m2": other}, [])
    assert any("m1 and m2 diverge at committed entry #1" in p for p in found)


def test_check_catches_a_lost_acknowledged_write() -> None:
    short = state(entry(T1, "a", b"1"), data={"a": b"1"})
    found = problems_of({"m1": GOOD, "m2": short}, settled=False)
    assert any(p.startswith("m2: 1 acknowledged write(s) not committed") for p in found)


def test_check_catches_an_ack_at_another_txid() -> None:
    moved = state(
        entry(T1, "z", b"0"),
        entry(T2, "a", b"1"),
        entry(T3, "b", b"2"),
        data={"z": b"0", "a": b"1", "b": b"2"},
    )
    found = problems_of({"m1": moved}, settled=False)
    assert any("acknowledged txid(s) hold another entry" in p for p in found)


def test_check_catches_a_stale_watermark_and_data_off_the_log() -> None:
    stale = dict(GOOD, last_committed_txid=T1)
    assert any("last_committed_txid" in p for p in problems_of({"m1": stale}, []))
    off = state(entry(T1, "a", b"1"), entry(T2, "b", b"2"), data={"a": b"1"})
    assert any(
        "data differs from its committed log" in p
        for p in problems_of({"m1": off}, [], replayed=True)
    )


def test_check_compares_committed_entries_only() -> None:
    """W25: a Go member may keep a logged-only tail; that alone is not divergence."""
    with_tail = state(
        entry(T1, "a", b"1"),
        entry(T2, "b", b"2"),
        entry(T3, "c", b"3", committed=False),
        data={"a": b"1", "b": b"2"},
    )
    checker.check({"m1": GOOD, "m2": with_tail}, ACKS)
    assert checker.settled({"m1": GOOD, "m2": with_tail})
