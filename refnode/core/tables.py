"""Every transition table of the core, in one normalised shape.

The phase modules own their tables (style §4); this module only reads them,
so the state diagrams (:mod:`.diagrams`) and the coverage tests see exactly
what the code dispatches on. :class:`~.trace.Transition` events name these
tables in their ``machine`` field.

A table has *pairs*, the keys the code looks up: ``(state, input)`` for the
phase tables, ``(state, next_state)`` for the node's role table, which is
keyed by role alone (:data:`refnode.core.node.NODE_TRANSITIONS`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from .broadcast import FOLLOWER_TRANSITIONS, LEADER_TRANSITIONS, FollowerPhase, PeerKind
from .discovery import (
    FOLLOWER_SYNC_TRANSITIONS,
    LEADER_SYNC_TRANSITIONS,
    FollowerSyncInput,
    FollowerSyncState,
    LeaderSyncInput,
    LeaderSyncState,
)
from .election import TRANSITIONS as ELECTION_TRANSITIONS
from .election import ElectionInput, ElectionState
from .node import NODE_TRANSITIONS, Role
from .trace import Transition


@dataclass(frozen=True, slots=True, kw_only=True)
class Edge:
    from_state: str
    input: str
    to_state: str
    action: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    name: str
    """The ``machine`` of its :class:`~.trace.Transition` events."""
    title: str
    source: str
    """Where the table lives (module and name)."""
    states: tuple[str, ...]
    inputs: tuple[str, ...]
    edges: tuple[Edge, ...]
    by_target: bool = False
    """True when the table is keyed ``(state, next_state)`` (the role table)."""
    failure: str | None = None
    """The state every pair missing from the table leads to, if any."""
    start: str | None = None

    def pair(self, t: Transition | Edge) -> tuple[str, str]:
        return (t.from_state, t.to_state) if self.by_target else (t.from_state, t.input)

    def pairs(self) -> frozenset[tuple[str, str]]:
        return frozenset(self.pair(e) for e in self.edges)

    def allows(self, t: Transition) -> bool:
        """Is ``t`` a move of this table (or its documented failure move)?"""
        if self.failure is not None and t.to_state == self.failure:
            return t.from_state != self.failure
        return any(
            e.from_state == t.from_state
            and e.to_state == t.to_state
            and (self.by_target or e.input == t.input)
            and e.action == t.action
            for e in self.edges
        )


def _names(members: Iterable[enum.Enum]) -> tuple[str, ...]:
    return tuple(str(m.value) for m in members)


def _election() -> Table:
    edges = tuple(
        Edge(from_state=s.value, input=i.value, to_state=n.value)
        for (s, i), nexts in ELECTION_TRANSITIONS.items()
        for n in sorted(nexts, key=lambda x: list(ElectionState).index(x))
    )
    return Table(
        name="election",
        title="Election site (one per run)",
        source="refnode/core/election.py TRANSITIONS",
        states=_names(ElectionState),
        inputs=_names(ElectionInput),
        edges=edges,
        start=ElectionState.IDLE.value,
    )


def _simple(
    name: str,
    title: str,
    source: str,
    table: Iterable[tuple[tuple[enum.Enum, enum.Enum], enum.Enum]],
    states: type[enum.Enum],
    inputs: type[enum.Enum],
    failure: str,
    start: str,
) -> Table:
    return Table(
        name=name,
        title=title,
        source=source,
        states=_names(states),
        inputs=_names(inputs),
        edges=tuple(
            Edge(from_state=str(s.value), input=str(i.value), to_state=str(n.value))
            for (s, i), n in table
        ),
        failure=failure,
        start=start,
    )


def _actions(
    name: str,
    title: str,
    source: str,
    table: Iterable[tuple[tuple[enum.Enum, enum.Enum], str]],
    states: type[enum.Enum],
    inputs: Iterable[enum.Enum],
) -> Table:
    return Table(
        name=name,
        title=title,
        source=source,
        states=_names(states),
        inputs=_names(inputs),
        edges=tuple(
            Edge(from_state=s.value, input=i.value, to_state=s.value, action=a)
            for (s, i), a in table
        ),
    )


def _node() -> Table:
    return Table(
        name="node",
        title="Node roles (one move per run start, election result and run end)",
        source="refnode/core/node.py NODE_TRANSITIONS",
        states=_names(Role),
        inputs=(),
        edges=tuple(
            Edge(from_state=r.value, input="", to_state=n.value)
            for r, nexts in NODE_TRANSITIONS.items()
            for n in sorted(nexts, key=lambda x: list(Role).index(x))
        ),
        by_target=True,
        start=Role.PAUSED.value,
    )


def _tables() -> dict[str, Table]:
    from .broadcast import BroadcastInput

    follower_inputs = sorted({i for _, i in FOLLOWER_TRANSITIONS}, key=list(BroadcastInput).index)
    tables = [
        _node(),
        _election(),
        _simple(
            "leader_sync",
            "Leader side of discovery and sync (one per accepted connection)",
            "refnode/core/discovery.py LEADER_SYNC_TRANSITIONS",
            LEADER_SYNC_TRANSITIONS.items(),
            LeaderSyncState,
            LeaderSyncInput,
            LeaderSyncState.FAILED.value,
            LeaderSyncState.WAIT_FOLLOWER_INFO.value,
        ),
        _simple(
            "follower_sync",
            "Follower and watcher side of discovery and sync",
            "refnode/core/discovery.py FOLLOWER_SYNC_TRANSITIONS",
            FOLLOWER_SYNC_TRANSITIONS.items(),
            FollowerSyncState,
            FollowerSyncInput,
            FollowerSyncState.FAILED.value,
            FollowerSyncState.CONNECTING.value,
        ),
        _actions(
            "leader_broadcast",
            "Leader broadcast phase, per synced peer (state = kind of peer)",
            "refnode/core/broadcast.py LEADER_TRANSITIONS",
            LEADER_TRANSITIONS.items(),
            PeerKind,
            BroadcastInput,
        ),
        _actions(
            "follower_broadcast",
            "Follower and watcher broadcast phase (SYNCING is follower_sync's)",
            "refnode/core/broadcast.py FOLLOWER_TRANSITIONS",
            FOLLOWER_TRANSITIONS.items(),
            FollowerPhase,
            follower_inputs,
        ),
    ]
    return {t.name: t for t in tables}


TABLES: dict[str, Table] = _tables()
"""Every table, by machine name."""
