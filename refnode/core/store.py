"""The node's persistent state as the core sees it (spec §3.2).

The driver loads a :class:`PersistentState` at boot and hands it to the
node; the core then changes its copy only together with the matching
``Persist*`` effect (see ``effects``), so the driver's durable copy and the
core's view agree once the effects are applied. :meth:`PersistentState.apply`
is the reference implementation of those effects, used by the simulator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wire import OpCode

from .effects import PersistCommit, PersistEpochs, PersistLogAppend, PersistLogTruncate

TRANSACTIONAL = frozenset({OpCode.ADD, OpCode.SET, OpCode.DELETE, OpCode.GET})
"""gometa's "transactional" ops: logging them moves LastLoggedTxid (spec §10.2)."""

APPLICABLE = frozenset({OpCode.ADD, OpCode.SET, OpCode.DELETE})

PersistEffect = PersistEpochs | PersistLogAppend | PersistLogTruncate | PersistCommit


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRecord:
    """One commit-log record."""

    txid: int
    op_code: int
    key: str
    content: bytes


@dataclass(slots=True, kw_only=True)
class PersistentState:
    """Everything that survives a run and (once durable) a crash."""

    accepted_epoch: int = 0
    accepted_leader: str = ""
    current_epoch: int = 0
    last_logged_txid: int = 0
    last_committed_txid: int = 0
    log: dict[int, LogRecord] = field(default_factory=dict)
    committed: set[int] = field(default_factory=set)
    data: dict[str, bytes] = field(default_factory=dict)

    def copy(self) -> PersistentState:
        return PersistentState(
            accepted_epoch=self.accepted_epoch,
            accepted_leader=self.accepted_leader,
            current_epoch=self.current_epoch,
            last_logged_txid=self.last_logged_txid,
            last_committed_txid=self.last_committed_txid,
            log=dict(self.log),
            committed=set(self.committed),
            data=dict(self.data),
        )

    def apply(self, effect: PersistEffect) -> None:
        """Apply one persistence effect exactly as a driver must."""
        if isinstance(effect, PersistEpochs):
            self.accepted_epoch = effect.accepted_epoch
            self.accepted_leader = effect.accepted_leader
            self.current_epoch = effect.current_epoch
        elif isinstance(effect, PersistLogAppend):
            self.log[effect.txid] = LogRecord(
                txid=effect.txid, op_code=effect.op_code, key=effect.key, content=effect.content
            )
            self.committed.discard(effect.txid)
            self.last_logged_txid = effect.last_logged_txid
        elif isinstance(effect, PersistLogTruncate):
            for txid in [t for t in self.log if t > effect.after_txid and t not in self.committed]:
                del self.log[txid]
            self.last_logged_txid = effect.last_logged_txid
        else:
            if effect.op_code in (OpCode.ADD, OpCode.SET):
                self.data[effect.key] = effect.content
            elif effect.op_code == OpCode.DELETE:
                self.data.pop(effect.key, None)
            self.committed.add(effect.txid)
            self.last_committed_txid = effect.last_committed_txid
