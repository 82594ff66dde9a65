"""Structured trace events: one :class:`Transition` per state-machine move.

Style §13 (raft ``state_trace.go``, aioquic qlog). The events do not go
through the effects stream, which drivers must act on; they go to an optional
*trace hook*, a plain callable given to :class:`~refnode.core.node.Node`
(``Node(..., trace=hook)`` or ``node.trace = hook``). Without a hook the cost
of a transition is one ``is None`` test: no event is built.

Every move of every table in :mod:`refnode.core.tables` is reported, in the
order the core makes them, synchronously, before the effects of the step are
drained. One input can cause several moves (a ``FollowerInfo`` that completes
the epoch quorum moves every waiting connection). Moves into a failure state
are reported too: their ``input`` is then the failure reason, e.g.
``Transition(machine="leader_sync", ..., input="not-a-member",
to_state="FAILED")``.

A hook must not call back into the node.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Transition:
    """``machine`` moved from ``from_state`` to ``to_state`` on ``input``.

    ``machine`` names a table of :mod:`refnode.core.tables`. ``conn`` is the
    connection the machine belongs to (per-connection machines), else None.
    ``action`` is the table's action for tables whose value is an action
    (the broadcast tables), else "".
    """

    machine: str
    from_state: str
    input: str
    to_state: str
    conn: int | None = None
    action: str = ""


TraceHook = Callable[[Transition], None]
"""What a trace hook looks like; see the module docstring for its rules."""


class Tracer:
    """A settable hook shared by the phases of one node (cheap when unset)."""

    __slots__ = ("hook",)

    def __init__(self, hook: TraceHook | None = None) -> None:
        self.hook = hook

    def __call__(
        self,
        machine: str,
        from_state: str,
        inp: str,
        to_state: str,
        *,
        conn: int | None = None,
        action: str = "",
    ) -> None:
        hook = self.hook
        if hook is not None:
            hook(
                Transition(
                    machine=machine,
                    from_state=from_state,
                    input=inp,
                    to_state=to_state,
                    conn=conn,
                    action=action,
                )
            )
