"""The checker that proves no committed data is lost and no member diverges.

It works on ``state`` dumps (the event-line contract's shape: epochs,
watermarks, ``log`` with ``txid``/``op_code``/``key``/``content_hex``/
``committed``, and ``data_hex``), so it judges the Go host and the reference
node alike, and on the writes a client saw acknowledged.

What it asserts, and why only *committed* entries are compared:

* **Agreement (spec §2, §6.7).** A txid committed anywhere names one entry
  everywhere: for any two members, one member's committed log is a prefix of
  the other's. Once the ensemble has *settled* (no writes in flight, every
  member caught up) the committed logs and the data are equal. Uncommitted
  tails are not compared: the reference node truncates an uncommitted tail a
  new leader did not keep (W25, refnode/SAFETY.md), while the Go node keeps
  such logged-only entries.
* **Integrity.** A member's committed entries have distinct txids, and its
  ``last_committed_txid`` is its highest committed txid. With ``replay`` the
  data must equal the committed log applied in txid order (ADD/SET store,
  DELETE removes, spec §10.2), which holds whenever the log starts from an
  empty store.
* **Durability.** Every write a client saw acknowledged (a reply without an
  error) is committed on every member, and, when its key was written only
  once, that member's data holds its value.

Failures raise :class:`CheckError` (an ``AssertionError``) listing every
problem found, not just the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from wire import OpCode

State = Mapping[str, Any]


class CheckError(AssertionError):
    """The states break agreement, integrity or durability; lists each problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:40]
        more = len(self.problems) - len(shown)
        text = "\n  ".join(shown) + (f"\n  … and {more} more" if more > 0 else "")
        super().__init__(f"{len(self.problems)} problem(s):\n  {text}")


@dataclass(frozen=True, slots=True, order=True)
class Entry:
    """One commit-log entry as the checker compares it."""

    txid: int
    op_code: int
    key: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Write:
    """A client request a member answered without an error (an acknowledgement)."""

    op_code: int
    key: str
    value: bytes = b""
    via: str = ""
    """The member (name or request address) the client sent it to."""
    txid: int = 0
    """The txid the reply named, when the client saw one (0: unknown)."""


def committed_entries(state: State) -> list[Entry]:
    """The entries a member marks committed, in txid order."""
    out = [
        Entry(int(e["txid"]), int(e["op_code"]), str(e["key"]), bytes.fromhex(e["content_hex"]))
        for e in state.get("log", [])
        if e.get("committed")
    ]
    out.sort()
    return out


def data_of(state: State) -> dict[str, bytes]:
    """A member's key/value data."""
    return {str(k): bytes.fromhex(v) for k, v in state.get("data_hex", {}).items()}


def replay(entries: Iterable[Entry]) -> dict[str, bytes]:
    """The data that committing ``entries`` in order onto an empty store gives."""
    data: dict[str, bytes] = {}
    for e in entries:
        if e.op_code in (OpCode.ADD, OpCode.SET):
            data[e.key] = e.content
        elif e.op_code == OpCode.DELETE:
            data.pop(e.key, None)
    return data


def _first_difference(a: Sequence[Entry], b: Sequence[Entry]) -> int | None:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return None


def integrity_problems(name: str, state: State, *, replayed: bool = False) -> list[str]:
    """Problems within one member's state."""
    problems: list[str] = []
    entries = committed_entries(state)
    txids = [e.txid for e in entries]
    if len(set(txids)) != len(txids):
        problems.append(f"{name}: a committed txid appears twice")
    last = int(state.get("last_committed_txid", 0))
    if entries and entries[-1].txid != last:
        problems.append(
            f"{name}: last_committed_txid {last:#x} but highest committed entry "
            f"{entries[-1].txid:#x}"
        )
    if replayed:
        want, have = replay(entries), data_of(state)
        if want != have:
            wrong = sorted(k for k in set(want) | set(have) if want.get(k) != have.get(k))
            problems.append(
                f"{name}: data differs from its committed log replayed, keys {wrong[:10]}"
            )
    return problems


def agreement_problems(
    states: Mapping[str, State], *, settled: bool = True, replayed: bool = False
) -> list[str]:
    """Problems across members (see the module docstring)."""
    problems: list[str] = []
    logs = {name: committed_entries(st) for name, st in states.items()}
    for name, st in states.items():
        problems += integrity_problems(name, st, replayed=replayed)
    names = sorted(logs)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            la, lb = logs[a], logs[b]
            at = _first_difference(la, lb)
            if at is not None:
                problems.append(
                    f"{a} and {b} diverge at committed entry #{at}: {la[at]} vs {lb[at]}"
                )
            elif settled and len(la) != len(lb):
                problems.append(
                    f"settled, but {a} has {len(la)} committed entries and {b} has {len(lb)}"
                )
    if settled and states:
        data = {name: data_of(st) for name, st in states.items()}
        first = names[0]
        for other in names[1:]:
            if data[other] != data[first]:
                keys = set(data[first]) | set(data[other])
                wrong = sorted(k for k in keys if data[first].get(k) != data[other].get(k))
                problems.append(f"settled, but data of {first} and {other} differ: {wrong[:10]}")
    return problems


def durability_problems(states: Mapping[str, State], acked: Iterable[Write]) -> list[str]:
    """Acknowledged writes missing from a member's committed log or data."""
    acked = list(acked)
    writes_per_key: dict[str, int] = {}
    for w in acked:
        writes_per_key[w.key] = writes_per_key.get(w.key, 0) + 1
    problems: list[str] = []
    for name, st in states.items():
        entries = committed_entries(st)
        have = {(e.op_code, e.key, e.content) for e in entries}
        at = {e.txid: e for e in entries}
        data = data_of(st)
        lost = [w for w in acked if (w.op_code, w.key, w.value) not in have]
        moved = [
            w
            for w in acked
            if w.txid and at.get(w.txid) != Entry(w.txid, w.op_code, w.key, w.value)
        ]
        if moved:
            problems.append(
                f"{name}: {len(moved)} acknowledged txid(s) hold another entry or none, e.g. "
                + ", ".join(f"{w.txid:#x} ({w.key!r})" for w in moved[:5])
            )
        if lost:
            problems.append(
                f"{name}: {len(lost)} acknowledged write(s) not committed, e.g. "
                + ", ".join(f"{w.key!r} via {w.via}" for w in lost[:5])
            )
        wrong = [
            w.key
            for w in acked
            if writes_per_key[w.key] == 1
            and w.op_code in (OpCode.ADD, OpCode.SET)
            and data.get(w.key) != w.value
        ]
        if wrong:
            problems.append(f"{name}: data lacks acknowledged values of {wrong[:10]}")
    return problems


def check(
    states: Mapping[str, State],
    acked: Iterable[Write] = (),
    *,
    settled: bool = True,
    replayed: bool = False,
) -> None:
    """Raise :class:`CheckError` unless the states agree and keep every ack."""
    problems = agreement_problems(states, settled=settled, replayed=replayed)
    problems += durability_problems(states, acked)
    if problems:
        raise CheckError(problems)


def settled(states: Mapping[str, State]) -> bool:
    """Every member has committed up to the same txid.

    Logged-only tails are not looked at (the Go node may keep them, W25);
    whether the committed entries then agree is :func:`check`'s question.
    """
    return len({int(s["last_committed_txid"]) for s in states.values()}) == 1
