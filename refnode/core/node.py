"""The node: runs, connections and framing around the phase modules.

Theory of operation
-------------------
A node repeats *runs* as gometa's server does (spec §9.1): each run starts
ELECTING with a fresh :class:`~refnode.core.election.ElectionSite`, then leads
(:class:`~refnode.core.broadcast.LeaderRole`) or follows
(:class:`~refnode.core.broadcast.FollowerRole`) until something ends it: a
failed sync, a broken connection to the leader, lost quorum, a timeout. Then
every connection of the run is closed, every waiting client is told the
server terminated, and after gometa's pause (0, 100 or 200 ms) the next run
starts. Persistent state outlives runs; the election round lives in the
node object as gometa's process-wide variable does.

The node is sans-I/O (style §1-§3). A driver feeds it inputs
(:mod:`refnode.core.inputs`) with the current monotonic time, calls
:meth:`Node.handle_timer` at :meth:`Node.next_deadline`, and performs the
effects returned by :meth:`Node.drain` in order, honouring the
persist-before-send rule documented in :mod:`refnode.core.effects`.

``step`` raises only :class:`~refnode.core.errors.ProtocolError` subclasses,
and only after it has queued the consequence (a dropped datagram, a closed
connection, an ended run); the driver may log them and go on.
"""

from __future__ import annotations

import enum
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import wire
from wire import Message, OpCode, PeerStatus, Vote

from .broadcast import TERMINATED, FollowerRole, LeaderRole
from .config import Mode, NodeConfig
from .context import Context
from .effects import (
    ClientReply,
    DatagramDropped,
    Dial,
    Effect,
    LeaderElected,
    RoleChanged,
    RunEnded,
    RunStarted,
)
from .election import ElectionSite
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .inputs import (
    BytesReceived,
    ClientRequest,
    ConnectionAccepted,
    ConnectionClosed,
    ConnectionEstablished,
    DatagramReceived,
    FrameReceived,
    Input,
    Stop,
    VoteReceived,
)
from .quorum import embedded_quorum, majority, watcher_quorum
from .store import PersistentState
from .trace import TraceHook


class Role(enum.Enum):
    PAUSED = "PAUSED"
    ELECTING = "ELECTING"
    LEADING = "LEADING"
    FOLLOWING = "FOLLOWING"
    WATCHING = "WATCHING"
    STOPPED = "STOPPED"


NODE_TRANSITIONS: dict[Role, frozenset[Role]] = {
    Role.PAUSED: frozenset({Role.ELECTING, Role.LEADING, Role.STOPPED}),
    Role.ELECTING: frozenset(
        {Role.LEADING, Role.FOLLOWING, Role.WATCHING, Role.PAUSED, Role.STOPPED}
    ),
    Role.LEADING: frozenset({Role.PAUSED, Role.STOPPED}),
    Role.FOLLOWING: frozenset({Role.PAUSED, Role.STOPPED}),
    Role.WATCHING: frozenset({Role.PAUSED, Role.STOPPED}),
    Role.STOPPED: frozenset(),
}
"""Run-level roles and the moves between them.

A run starts ELECTING (LEADING at once when embedded); a watcher that dials
its leader directly still passes through ELECTING (RoleChanged ELECTING,
then WATCHING), so PAUSED -> WATCHING is not a move.
ELECTING -> PAUSED is defensive only: it ends a run whose winner has no
MessageAddr, which cannot happen while only members' votes are counted.
"""

_STATUS = {
    Role.LEADING: PeerStatus.LEADING,
    Role.FOLLOWING: PeerStatus.FOLLOWING,
}


@dataclass(slots=True)
class _Conn:
    conn: int
    peer: str
    inbound: bool
    decoder: wire.FrameDecoder | None = None
    partial_since: float | None = None
    early: list[Message] = field(default_factory=list)
    """Frames of an inbound connection that arrived before this node led."""


class Node:
    """A gometa member (or watcher, or embedded leader) as a pure state machine."""

    def __init__(
        self,
        config: NodeConfig,
        state: PersistentState,
        rng: random.Random,
        now: float,
        *,
        start: bool = True,
        trace: TraceHook | None = None,
    ) -> None:
        self.config = config
        self.me = config.host.election_addr
        self.ctx = Context(config, state, rng, self.me)
        self.ctx.trace.hook = trace
        self.role = Role.PAUSED
        self.run = 0
        self.last_round = 0
        self.site: ElectionSite | None = None
        self.leader: LeaderRole | None = None
        self.follower: FollowerRole | None = None
        self.conns: dict[int, _Conn] = {}
        self.next_dial = -1
        self.pause_until: float | None = None
        self.watcher_backoff = 0.0
        self.queued: deque[ClientRequest] = deque()
        if start:
            self._start_run(now)

    # -- public API ----------------------------------------------------------------

    @property
    def state(self) -> PersistentState:
        return self.ctx.state

    @property
    def trace(self) -> TraceHook | None:
        """The trace hook: called with every :class:`~.trace.Transition` (or None)."""
        return self.ctx.trace.hook

    @trace.setter
    def trace(self, hook: TraceHook | None) -> None:
        self.ctx.trace.hook = hook

    def drain(self) -> list[Effect]:
        """Take every effect queued so far, in the order they must be performed."""
        out = self.ctx.out
        self.ctx.out = []
        return out

    def next_deadline(self) -> float | None:
        ds: list[float] = []
        if self.pause_until is not None:
            ds.append(self.pause_until)
        if self.site is not None and (d := self.site.next_deadline()) is not None:
            ds.append(d)
        role = self.leader or self.follower
        if role is not None and (d := role.next_deadline()) is not None:
            ds.append(d)
        limit = self.config.limits.partial_frame_timeout
        ds.extend(c.partial_since + limit for c in self.conns.values() if c.partial_since)
        return min(ds) if ds else None

    def handle_timer(self, now: float) -> None:
        """TIMEOUT_*: fire every deadline that is due at ``now``."""
        if self.role is Role.STOPPED:
            return
        if self.pause_until is not None and now >= self.pause_until:
            self.pause_until = None
            self._start_run(now)
            return
        limit = self.config.limits.partial_frame_timeout
        for c in list(self.conns.values()):
            if c.partial_since is not None and now >= c.partial_since + limit:
                self._conn_failed(c.conn, "partial-frame-timeout", now, close=True)
        if self.site is not None and self.role is Role.ELECTING:
            winner = self.site.handle_timer(now)
            if winner is not None:
                self._elected(winner, now)
        if self.leader is not None:
            self.leader.check_timers(now)
        if self.follower is not None:
            self.follower.check_timers(now)
        self._prune()
        self._check_end(now)

    def step(self, inp: Input, now: float) -> None:
        """Feed one input. Raises only ProtocolError, after queueing its effects."""
        if self.role is Role.STOPPED:
            if isinstance(inp, ConnectionAccepted):
                self.ctx.close(inp.conn, "stopped")
            return
        handler = _DISPATCH.get(type(inp))
        if handler is None:
            raise LocalProtocolError("unknown-input", type(inp).__name__)
        try:
            handler(self, inp, now)
        finally:
            self._prune()
            self._check_end(now)

    # -- runs ----------------------------------------------------------------------

    def _set_role(self, role: Role, cause: str) -> None:
        old = self.role
        if role not in NODE_TRANSITIONS[old]:  # pragma: no cover - a bug
            raise LocalProtocolError("bad-role-transition", f"{old} -> {role}")
        self.role = role
        self.ctx.trace("node", old.value, cause, role.value)
        self.ctx.emit(RoleChanged(role=role.value))

    def _status(self) -> int:
        return int(_STATUS.get(self.role, PeerStatus.ELECTING))

    def _current_vote(self) -> tuple[int, int, int]:
        s = self.ctx.state
        return s.current_epoch, s.last_logged_txid, s.last_committed_txid

    def _start_run(self, now: float) -> None:
        self.run += 1
        cfg = self.config
        lim = cfg.limits
        self.ctx.emit(RunStarted(run=self.run, role=cfg.mode.value))
        if cfg.mode is Mode.EMBEDDED:
            self._lead(now, embedded=True)
            return
        if cfg.mode is Mode.WATCHER and cfg.leader_message_addr:
            self._set_role(Role.ELECTING, "RUN_START")
            self._follow("", cfg.leader_message_addr, now, voting=False)
            return
        self._set_role(Role.ELECTING, "RUN_START")
        watcher = cfg.mode is Mode.WATCHER
        peers = tuple(p.election_addr for p in cfg.peers)
        size = cfg.ensemble_size
        self.site = ElectionSite(
            me=self.me,
            peers=peers,
            start_round=self.last_round,
            solicit_only=watcher,
            has_quorum=(lambda n: watcher_quorum(n, size))
            if watcher
            else (lambda n: majority(n, size)),
            current_vote=self._current_vote,
            status=self._status,
            emit=self.ctx.emit,
            ballot_timeout=lim.ballot_timeout,
            ballot_max_timeout=lim.ballot_max_timeout,
            finalize_wait=lim.ballot_finalize_wait,
            trace=self.ctx.trace,
        )
        winner = self.site.start(now)
        if winner is not None:
            self._elected(winner, now)

    def _elected(self, winner: str, now: float) -> None:
        site = self.site
        assert site is not None and site.winner is not None
        self.last_round = site.winner.round
        self.ctx.emit(
            LeaderElected(leader=winner, round=site.winner.round, epoch=site.winning_epoch)
        )
        if self.config.mode is not Mode.WATCHER and winner == self.me:
            self._lead(now, embedded=False)
            return
        addr = self.config.message_addr_of(winner)
        if addr is None:
            self._end_run("winner-not-in-config", now, pause=0.0)
            return
        self._follow(winner, addr, now, voting=self.config.mode is not Mode.WATCHER)

    def _on_epoch(self, epoch: int) -> None:
        if self.site is not None:
            self.site.update_winning_epoch(epoch)

    def _lead(self, now: float, *, embedded: bool) -> None:
        cfg = self.config
        size = cfg.ensemble_size
        self._set_role(Role.LEADING, "RUN_START" if embedded else "ELECTED")
        try:
            self.leader = LeaderRole(
                self.ctx,
                ensemble_size=size,
                quorum=embedded_quorum if embedded else (lambda n: majority(n, size)),
                member_fids=cfg.member_fids(),
                embedded=embedded,
                now=now,
                on_epoch=self._on_epoch,
            )
        except ProtocolError as exc:
            self._end_run(exc.reason, now, pause=cfg.limits.bootstrap_error_pause)
            return
        self.leader.start()
        for c in list(self.conns.values()):
            if c.inbound and self.leader is not None:
                self.leader.accept_connection(c.conn, now)
                early, c.early = c.early, []
                for msg in early:
                    if c.conn not in self.conns:
                        break
                    self._deliver(c, msg, now)
        self._release_queue()

    def _follow(self, leader_id: str, addr: str, now: float, *, voting: bool) -> None:
        conn = self.next_dial
        self.next_dial -= 1
        self._set_role(
            Role.FOLLOWING if voting else Role.WATCHING, "ELECTED" if leader_id else "LEADER_ADDR"
        )
        self.conns[conn] = _Conn(conn=conn, peer=addr, inbound=False)
        self.ctx.emit(Dial(conn=conn, addr=addr))
        self.follower = FollowerRole(
            self.ctx,
            conn=conn,
            leader_id=leader_id,
            voting=voting,
            now=now,
            on_epoch=self._on_epoch,
        )
        self._release_queue()

    def _release_queue(self) -> None:
        while self.queued:
            req = self.queued.popleft()
            self._client(req)

    def _check_end(self, now: float) -> None:
        role = self.leader or self.follower
        if role is not None and role.ended is not None:
            reason = role.ended
            if self.config.mode is Mode.WATCHER:
                pause = self._watcher_pause()
            elif self.config.mode is Mode.EMBEDDED:
                pause = self.config.limits.embedded_restart_pause
            else:
                pause = 0.0
            self._end_run(reason, now, pause=pause)

    def _watcher_pause(self) -> float:
        lim = self.config.limits
        if self.watcher_backoff == 0.0:
            self.watcher_backoff = lim.watcher_retry_backoff
        elif self.config.leader_message_addr:
            self.watcher_backoff += lim.watcher_retry_backoff
        else:
            self.watcher_backoff *= 2
        self.watcher_backoff = min(self.watcher_backoff, lim.watcher_max_retry_backoff)
        return self.watcher_backoff

    def _end_run(self, reason: str, now: float, *, pause: float, stop: bool = False) -> None:
        if self.leader is not None:
            self.leader.terminate()
        if self.follower is not None:
            self.follower.terminate()
        self.leader = self.follower = None
        self.site = None
        for conn in self.conns:
            self.ctx.close(conn, "run-ended")
        self.conns.clear()
        self.ctx.closed.clear()
        while self.queued:
            self.ctx.emit(
                ClientReply(request_id=self.queued.popleft().request_id, error=TERMINATED)
            )
        self.ctx.emit(RunEnded(run=self.run, reason=reason))
        if stop:
            self._set_role(Role.STOPPED, "STOP")
            return
        self._set_role(Role.PAUSED, reason)
        if pause > 0:
            self.pause_until = now + pause
        else:
            self._start_run(now)

    # -- inputs --------------------------------------------------------------------

    def _on_datagram(self, inp: DatagramReceived, now: float) -> None:
        if len(inp.data) > self.config.limits.max_datagram_size:
            self._drop_datagram(inp.src, "datagram-too-long")
        try:
            msg = wire.decode_datagram(inp.data)
        except wire.WireError as exc:
            self._drop_datagram(inp.src, getattr(exc, "reason", "decode-error"))
        self._on_vote(VoteReceived(src=inp.src, vote=msg), now)

    def _drop_datagram(self, src: str, reason: str) -> None:
        self.ctx.emit(DatagramDropped(src=src, reason=reason))
        raise RemoteProtocolError(reason, f"datagram from {src}")

    def _on_vote(self, inp: VoteReceived, now: float) -> None:
        v = inp.vote
        if not isinstance(v, Vote):
            self._drop_datagram(inp.src, "not-a-vote")  # W2
        assert isinstance(v, Vote)
        if not v.solicit and v.status not in (0, 1, 2):
            self._drop_datagram(inp.src, "bad-status")  # W15
        site = self.site
        if site is None:
            return
        if not v.solicit and v.status == PeerStatus.ELECTING and v.cnd_id not in site.full_ensemble:
            self._drop_datagram(inp.src, "candidate-not-member")  # W12
        site.receive(inp.src, v, now)

    def _on_accepted(self, inp: ConnectionAccepted, now: float) -> None:
        if inp.conn < 0 or inp.conn in self.conns:
            raise LocalProtocolError("bad-conn-id", str(inp.conn))
        pending = sum(1 for c in self.conns.values() if c.inbound)
        if self.leader is None and pending >= self.config.limits.max_pending_connections:
            self.ctx.close(inp.conn, "too-many-pending-connections")  # W6
            return
        self.conns[inp.conn] = _Conn(conn=inp.conn, peer=inp.peer, inbound=True)
        if self.leader is not None:
            self.leader.accept_connection(inp.conn, now)

    def _on_established(self, inp: ConnectionEstablished, now: float) -> None:
        c = self.conns.get(inp.conn)
        if c is None:
            return
        if self.follower is not None and self.follower.conn == inp.conn:
            self.follower.connected()

    def _on_bytes(self, inp: BytesReceived, now: float) -> None:
        c = self.conns.get(inp.conn)
        if c is None:
            return
        if c.decoder is None:
            c.decoder = wire.FrameDecoder()
        try:
            msgs = c.decoder.feed(inp.data)
        except wire.DecodeError as exc:
            for msg in exc.decoded_before:
                if inp.conn not in self.conns:
                    break
                self._deliver(c, msg, now)
            self._conn_failed(inp.conn, exc.reason, now, close=True)
            raise RemoteProtocolError(exc.reason, str(exc)) from None
        c.partial_since = (c.partial_since or now) if c.decoder.buffered else None
        for msg in msgs:
            if inp.conn not in self.conns:
                break
            self._deliver(c, msg, now)

    def _on_frame(self, inp: FrameReceived, now: float) -> None:
        c = self.conns.get(inp.conn)
        if c is not None:
            self._deliver(c, inp.msg, now)

    def _deliver(self, c: _Conn, msg: Message, now: float) -> None:
        try:
            if c.inbound:
                if self.leader is not None:
                    self.leader.receive(c.conn, msg)
                elif len(c.early) < 4:
                    c.early.append(msg)
                else:
                    self._conn_failed(c.conn, "early-frames", now, close=True)
            elif self.follower is not None and self.follower.conn == c.conn:
                self.follower.receive(msg)
        except RemoteProtocolError as exc:
            self._conn_failed(c.conn, exc.reason, now, close=True)
            raise

    def _prune(self) -> None:
        """Forget connections a phase closed (they were reported as effects)."""
        closed = self.ctx.closed
        if closed:
            for conn in closed:
                self.conns.pop(conn, None)
            closed.clear()

    def _conn_failed(self, conn: int, reason: str, now: float, *, close: bool) -> None:
        c = self.conns.pop(conn, None)
        if c is None:
            return
        if c.inbound:
            if self.leader is not None:
                if close and conn in self.leader.peers:
                    self.leader.drop(conn, reason)
                elif close and conn in self.leader.disc.syncs:
                    self.leader.disc.fail(conn, reason)
                else:
                    self.leader.connection_closed(conn)
                    if close:
                        self.ctx.close(conn, reason)
            elif close:
                self.ctx.close(conn, reason)
        elif self.follower is not None and self.follower.conn == conn:
            self.follower.ended = reason
            if close:
                self.ctx.close(conn, reason)
        elif close:
            self.ctx.close(conn, reason)

    def _on_closed(self, inp: ConnectionClosed, now: float) -> None:
        self._conn_failed(inp.conn, inp.reason, now, close=False)

    def _on_client(self, inp: ClientRequest, now: float) -> None:
        self._client(inp)

    def _client(self, req: ClientRequest) -> None:
        if req.op_code == OpCode.GET:
            value = self.ctx.state.data.get(req.key)
            self.ctx.emit(
                ClientReply(
                    request_id=req.request_id,
                    result=value or b"",
                    error=None if value is not None else "key not found",
                )
            )
            return
        role = self.leader or self.follower
        if role is None:
            if len(self.queued) >= self.config.limits.max_client_queue:
                self.ctx.emit(
                    ClientReply(request_id=req.request_id, error="Server Error : queue full")
                )
            else:
                self.queued.append(req)
            return
        role.client_request(req.request_id, req.op_code, req.key, req.value)

    def _on_stop(self, inp: Stop, now: float) -> None:
        self.pause_until = None
        if self.role is Role.PAUSED:
            self._set_role(Role.STOPPED, "STOP")
        else:
            self._end_run("stopped", now, pause=0.0, stop=True)


_DISPATCH: dict[type, Callable[[Node, Any, float], None]] = {
    DatagramReceived: Node._on_datagram,
    VoteReceived: Node._on_vote,
    ConnectionAccepted: Node._on_accepted,
    ConnectionEstablished: Node._on_established,
    BytesReceived: Node._on_bytes,
    FrameReceived: Node._on_frame,
    ConnectionClosed: Node._on_closed,
    ClientRequest: Node._on_client,
    Stop: Node._on_stop,
}
