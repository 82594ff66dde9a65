"""The shared context the phase modules act through.

It owns the outbox and the node's :class:`~refnode.core.store.PersistentState`,
and is the only place that changes the state together with its effect, so the
two never disagree.
"""

from __future__ import annotations

import random

from wire import Message, OpCode

from .config import NodeConfig
from .effects import (
    CloseConnection,
    Effect,
    PersistCommit,
    PersistEpochs,
    PersistLogAppend,
    PersistLogTruncate,
    SendMessage,
)
from .store import TRANSACTIONAL, PersistentState
from .trace import Tracer

MAX_EPOCH = 0xFFFFFFFF
MAX_COUNTER = 0xFFFFFFFF


class Context:
    """Outbox, persistent state and randomness shared by the phases of one node."""

    def __init__(
        self, config: NodeConfig, state: PersistentState, rng: random.Random, me: str
    ) -> None:
        self.config = config
        self.limits = config.limits
        self.state = state
        self.rng = rng
        self.me = me
        self.fid = config.my_fid
        self.out: list[Effect] = []
        self.closed: set[int] = set()
        """Connections closed since the node last pruned its table."""
        self.trace = Tracer()
        """Reports every state-machine move (:mod:`.trace`); a no-op until hooked."""

    # network
    def send(self, conn: int, msg: Message) -> None:
        self.out.append(SendMessage(conn=conn, msg=msg))

    def close(self, conn: int, reason: str) -> None:
        if conn in self.closed:
            return
        self.closed.add(conn)
        self.out.append(CloseConnection(conn=conn, reason=reason))

    def emit(self, effect: Effect) -> None:
        self.out.append(effect)

    # persistence
    def persist_epochs(
        self,
        *,
        accepted: int | None = None,
        leader: str | None = None,
        current: int | None = None,
    ) -> None:
        """Raise the epochs (never lower them, spec §3.2) and persist the result."""
        s = self.state
        new_ae = max(s.accepted_epoch, accepted) if accepted is not None else s.accepted_epoch
        new_leader = leader if leader is not None else s.accepted_leader
        new_ce = max(s.current_epoch, current) if current is not None else s.current_epoch
        if (new_ae, new_leader, new_ce) == (s.accepted_epoch, s.accepted_leader, s.current_epoch):
            return
        effect = PersistEpochs(
            accepted_epoch=new_ae, accepted_leader=new_leader, current_epoch=new_ce
        )
        s.apply(effect)
        self.out.append(effect)

    def log_append(self, txid: int, op_code: int, key: str, content: bytes) -> None:
        s = self.state
        last = txid if op_code in TRANSACTIONAL else s.last_logged_txid
        effect = PersistLogAppend(
            txid=txid, op_code=op_code, key=key, content=content, last_logged_txid=last
        )
        s.apply(effect)
        self.out.append(effect)

    def log_truncate(self, after: int) -> None:
        s = self.state
        if not any(t > after and t not in s.committed for t in s.log):
            return
        effect = PersistLogTruncate(after_txid=after, last_logged_txid=after)
        s.apply(effect)
        self.out.append(effect)

    def commit(self, txid: int) -> None:
        """Apply the logged record ``txid`` (it must exist)."""
        s = self.state
        rec = s.log[txid]
        last = txid if rec.op_code in TRANSACTIONAL else s.last_committed_txid
        effect = PersistCommit(
            txid=txid,
            op_code=rec.op_code,
            key=rec.key,
            content=rec.content,
            last_committed_txid=max(last, s.last_committed_txid),
        )
        s.apply(effect)
        self.out.append(effect)


def is_next_in_sequence(new: int, old: int) -> bool:
    """gometa ``IsNextInSequence`` (spec §3.3)."""
    if (new >> 32) > (old >> 32):
        return True
    return (new >> 32) == (old >> 32) and (old & MAX_COUNTER) != MAX_COUNTER and new == old + 1


def is_applicable(op_code: int) -> bool:
    return op_code in (OpCode.ADD, OpCode.SET, OpCode.DELETE)
