"""Discovery and synchronisation, both roles (spec §5, gometa ``discovery.go``).

Theory of operation
-------------------
*Leader side.* Every accepted connection gets a :class:`LeaderSync`. Its
first frame must be ``FollowerInfo``; voters among the configured members
vote on the new epoch in the run's :class:`ConsentState` (pre-filled with the
leader's own vote). The new epoch is ``max(leader AE, voters' AE) + 1``, fixed
once a quorum of voters has spoken; then the leader persists it and every
waiting connection gets ``LeaderInfo``. Each answers ``EpochAck``; at a quorum
of acks the leader makes the epoch current (persisted, txid counter reset)
and every waiting connection gets its sync stream: ``StreamBegin``, the log
entries after the follower's start, ``StreamEnd``, ``NewLeader``. A quorum of
``NewLeaderAck`` establishes the leader: it commits the history it inherited
(ZAB's rule, SAFETY.md "W25") and the connection joins the broadcast phase.
Later connections pass the same steps without waiting, since the quorums
already exist. Proposals and Commits broadcast while a connection syncs are
queued in its *observer* and flushed when it joins; a full observer drops
the connection (W9). A sync has ``sync_timeout`` (300 s) to finish.

*Follower side.* :class:`FollowerSync` sends ``FollowerInfo`` on the dialled
connection, checks ``LeaderInfo`` (never lower than its accepted epoch, and
an equal epoch only from the leader that set it), answers ``EpochAck``,
buffers the stream until ``StreamEnd``, then replaces its uncommitted log
tail with the stream and commits what the markers cover, checks that
``NewLeader`` carries the epoch agreed in ``LeaderInfo``, makes it current
and answers ``NewLeaderAck``.

Every step expects exactly one message type; anything else fails the sync
and closes the connection (spec §5.2).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from wire import (
    STREAM_BEGIN_KEY,
    STREAM_END_KEY,
    EpochAck,
    FollowerInfo,
    LeaderInfo,
    LogEntry,
    Message,
    NewLeader,
    NewLeaderAck,
    OpCode,
    Proposal,
)

from .context import MAX_EPOCH, Context
from .errors import LocalProtocolError, RemoteProtocolError

# ---------------------------------------------------------------------------
# Leader side


class LeaderSyncState(enum.Enum):
    WAIT_FOLLOWER_INFO = "WAIT_FOLLOWER_INFO"
    WAIT_EPOCH_QUORUM = "WAIT_EPOCH_QUORUM"
    WAIT_EPOCH_ACK = "WAIT_EPOCH_ACK"
    WAIT_ACK_QUORUM = "WAIT_ACK_QUORUM"
    WAIT_NEW_LEADER_ACK = "WAIT_NEW_LEADER_ACK"
    WAIT_NEW_LEADER_QUORUM = "WAIT_NEW_LEADER_QUORUM"
    SYNCED = "SYNCED"
    FAILED = "FAILED"


class LeaderSyncInput(enum.Enum):
    RECV_FOLLOWER_INFO = "RECV_FOLLOWER_INFO"
    RECV_EPOCH_ACK = "RECV_EPOCH_ACK"
    RECV_NEW_LEADER_ACK = "RECV_NEW_LEADER_ACK"
    RECV_OTHER = "RECV_OTHER"
    """Any other frame (a Request, a Proposal, ...)."""
    QUORUM_EPOCH = "QUORUM_EPOCH"
    QUORUM_ACK = "QUORUM_ACK"
    QUORUM_NEW_LEADER = "QUORUM_NEW_LEADER"


LS, LI = LeaderSyncState, LeaderSyncInput

LEADER_SYNC_TRANSITIONS: dict[tuple[LeaderSyncState, LeaderSyncInput], LeaderSyncState] = {
    (LS.WAIT_FOLLOWER_INFO, LI.RECV_FOLLOWER_INFO): LS.WAIT_EPOCH_QUORUM,
    (LS.WAIT_EPOCH_QUORUM, LI.QUORUM_EPOCH): LS.WAIT_EPOCH_ACK,
    (LS.WAIT_EPOCH_ACK, LI.RECV_EPOCH_ACK): LS.WAIT_ACK_QUORUM,
    (LS.WAIT_ACK_QUORUM, LI.QUORUM_ACK): LS.WAIT_NEW_LEADER_ACK,
    (LS.WAIT_NEW_LEADER_ACK, LI.RECV_NEW_LEADER_ACK): LS.WAIT_NEW_LEADER_QUORUM,
    (LS.WAIT_NEW_LEADER_QUORUM, LI.QUORUM_NEW_LEADER): LS.SYNCED,
    # The follower is done and may already forward Requests; gometa leaves
    # every frame in the pipe until the quorum forms. So do we: they are
    # held (at most ``max_client_queue``) and handled once SYNCED.
    (LS.WAIT_NEW_LEADER_QUORUM, LI.RECV_FOLLOWER_INFO): LS.WAIT_NEW_LEADER_QUORUM,
    (LS.WAIT_NEW_LEADER_QUORUM, LI.RECV_EPOCH_ACK): LS.WAIT_NEW_LEADER_QUORUM,
    (LS.WAIT_NEW_LEADER_QUORUM, LI.RECV_NEW_LEADER_ACK): LS.WAIT_NEW_LEADER_QUORUM,
    (LS.WAIT_NEW_LEADER_QUORUM, LI.RECV_OTHER): LS.WAIT_NEW_LEADER_QUORUM,
}
"""The leader's per-connection table; any other (state, input) fails the sync
(FAILED: the connection is closed and its votes withdrawn)."""

_LEADER_RECV: dict[type, LeaderSyncInput] = {
    FollowerInfo: LI.RECV_FOLLOWER_INFO,
    EpochAck: LI.RECV_EPOCH_ACK,
    NewLeaderAck: LI.RECV_NEW_LEADER_ACK,
}


@dataclass(slots=True)
class LeaderSync:
    """One connection being synced by the leader."""

    conn: int
    deadline: float
    state: LeaderSyncState = LS.WAIT_FOLLOWER_INFO
    fid: str = ""
    voting: bool = False
    counted: bool = False
    start_txid: int = 0
    observer: list[Message] = field(default_factory=list)
    held: list[Message] = field(default_factory=list)


class ConsentState:
    """The three quorums of one leader run (gometa ``ConsentState``)."""

    def __init__(self, *, own_fid: str, own_accepted_epoch: int, quorum: Callable[[int], bool]):
        self.own_fid = own_fid
        self.epoch = own_accepted_epoch + 1
        self.quorum = quorum
        self.ae_votes = {own_fid}
        self.ack_votes = {own_fid}
        self.nl_votes = {own_fid}

    def epoch_agreed(self) -> bool:
        return self.quorum(len(self.ae_votes))

    def acks_done(self) -> bool:
        return self.quorum(len(self.ack_votes))

    def new_leader_done(self) -> bool:
        return self.quorum(len(self.nl_votes))

    def withdraw(self, fid: str) -> None:
        """A voter's sync failed: take back its votes, never the leader's own (W18)."""
        if fid == self.own_fid:
            return
        for votes in (self.ae_votes, self.ack_votes, self.nl_votes):
            votes.discard(fid)


class LeaderDiscovery:
    """All the syncs of one leader run, and their shared consent."""

    def __init__(
        self,
        ctx: Context,
        *,
        quorum: Callable[[int], bool],
        member_fids: frozenset[str],
        on_established: Callable[[], None],
        on_synced: Callable[[LeaderSync], None],
        on_epoch: Callable[[int], None],
        last_committed: Callable[[], int],
        embedded: bool,
    ) -> None:
        self.ctx = ctx
        self.member_fids = member_fids
        self.on_established = on_established
        self.on_synced = on_synced
        self.on_epoch = on_epoch
        self.last_committed = last_committed
        self.embedded = embedded
        self.syncs: dict[int, LeaderSync] = {}
        if ctx.state.accepted_epoch + 1 >= MAX_EPOCH:
            raise LocalProtocolError("epoch-exhausted", "accepted epoch at the 32-bit limit")
        self.consent = ConsentState(
            own_fid=ctx.fid, own_accepted_epoch=ctx.state.accepted_epoch, quorum=quorum
        )
        self.epoch_persisted = False
        self.current_set = False
        self.established = False

    # -- run-level steps -------------------------------------------------------

    def start(self) -> None:
        """Single-voter quorums (ensemble of one, embedded) exist at once."""
        self._advance()

    def _advance(self) -> None:
        c = self.consent
        if not self.epoch_persisted and c.epoch_agreed():
            self.epoch_persisted = True
            self.ctx.persist_epochs(accepted=c.epoch, leader=self.ctx.me)
            for s in list(self.syncs.values()):
                if s.state is LS.WAIT_EPOCH_QUORUM:
                    self._send_leader_info(s)
        if self.epoch_persisted and not self.current_set and c.acks_done():
            self.current_set = True
            self.ctx.persist_epochs(current=c.epoch)
            self.on_epoch(c.epoch)
            for s in list(self.syncs.values()):
                if s.state is LS.WAIT_ACK_QUORUM:
                    self._send_stream(s)
        if self.current_set and not self.established and c.new_leader_done():
            self.established = True
            self.on_established()
            for s in list(self.syncs.values()):
                if s.state is LS.WAIT_NEW_LEADER_QUORUM:
                    self._synced(s)

    # -- per connection ----------------------------------------------------------

    def add(self, conn: int, now: float) -> LeaderSync:
        sync = LeaderSync(conn=conn, deadline=now + self.ctx.limits.sync_timeout)
        self.syncs[conn] = sync
        return sync

    def _move(self, s: LeaderSync, inp: LeaderSyncInput) -> None:
        old = s.state
        nxt = LEADER_SYNC_TRANSITIONS.get((old, inp))
        if nxt is None:
            raise RemoteProtocolError("unexpected-message", f"{inp.value} in {old.value}")
        s.state = nxt
        self.ctx.trace("leader_sync", old.value, inp.value, nxt.value, conn=s.conn)

    def receive(self, conn: int, msg: Message) -> None:
        """A frame on a syncing connection; raises after queueing the close."""
        s = self.syncs[conn]
        inp = _LEADER_RECV.get(type(msg), LI.RECV_OTHER)
        before = s.state
        try:
            self._move(s, inp)
            if before is LS.WAIT_NEW_LEADER_QUORUM:
                if len(s.held) >= self.ctx.limits.max_client_queue:
                    raise RemoteProtocolError("too-many-held-frames", str(len(s.held)))
                s.held.append(msg)
            elif isinstance(msg, FollowerInfo):
                self._follower_info(s, msg)
            elif isinstance(msg, EpochAck):
                self._epoch_ack(s, msg)
            else:
                self._new_leader_ack(s)
        except RemoteProtocolError as exc:
            self.fail(conn, exc.reason)
            raise

    def fail(self, conn: int, reason: str) -> None:
        s = self.syncs.pop(conn, None)
        if s is None:
            return
        old, s.state = s.state, LS.FAILED
        self.ctx.trace("leader_sync", old.value, reason, LS.FAILED.value, conn=conn)
        if s.counted:
            self.consent.withdraw(s.fid)
        self.ctx.close(conn, reason)

    def _follower_info(self, s: LeaderSync, msg: FollowerInfo) -> None:
        s.fid, s.voting = msg.fid, msg.voting
        c = self.consent
        if msg.voting and not self.embedded:
            if msg.fid not in self.member_fids or msg.fid == self.ctx.fid:
                raise RemoteProtocolError("not-a-member", f"voting fid {msg.fid!r}")
            if any(o.fid == msg.fid and o.counted for o in self.syncs.values() if o is not s):
                # A second sync under the same fid: the newer one wins, as in
                # gometa's AddFollower, but its vote is the same vote.
                pass
            if not c.epoch_agreed():
                if msg.accepted_epoch + 1 >= MAX_EPOCH:
                    raise RemoteProtocolError("epoch-overflow", str(msg.accepted_epoch))
                if msg.accepted_epoch >= c.epoch:
                    c.epoch = msg.accepted_epoch + 1
                c.ae_votes.add(msg.fid)
                s.counted = True
            elif msg.fid not in c.ae_votes:
                s.counted = True
        if self.epoch_persisted:
            self._send_leader_info(s)
        else:
            self._advance()

    def _send_leader_info(self, s: LeaderSync) -> None:
        self._move(s, LI.QUORUM_EPOCH)
        self.ctx.send(s.conn, LeaderInfo(accepted_epoch=self.ctx.state.accepted_epoch))

    def _epoch_ack(self, s: LeaderSync, msg: EpochAck) -> None:
        s.start_txid = msg.last_logged_txid
        if s.voting and s.counted:
            self.consent.ack_votes.add(s.fid)
        if self.current_set:
            self._send_stream(s)
        else:
            self._advance()

    def _send_stream(self, s: LeaderSync) -> None:
        self._move(s, LI.QUORUM_ACK)
        st = self.ctx.state
        # Entries whose Proposal is queued in the observer come from there.
        first_queued = min((m.txnid for m in s.observer if isinstance(m, Proposal)), default=None)
        horizon = self.last_committed()
        send = self.ctx.send
        send(s.conn, _marker(OpCode.STREAM_BEGIN, horizon))
        for txid in sorted(t for t in st.log if t > s.start_txid):
            if first_queued is not None and txid >= first_queued:
                break
            rec = st.log[txid]
            send(
                s.conn,
                LogEntry(txnid=txid, op_code=rec.op_code, key=rec.key, content=rec.content),
            )
        send(s.conn, _marker(OpCode.STREAM_END, horizon))
        # Commits the stream already covers would only be stale repeats (W31).
        s.observer = [
            m
            for m in s.observer
            if isinstance(m, Proposal)
            or m_txid(m) > horizon
            or (first_queued is not None and m_txid(m) >= first_queued)
        ]
        send(s.conn, NewLeader(current_epoch=st.current_epoch))

    def _new_leader_ack(self, s: LeaderSync) -> None:
        if s.voting and s.counted:
            self.consent.nl_votes.add(s.fid)
        if self.established:
            self._synced(s)
        else:
            self._advance()

    def _synced(self, s: LeaderSync) -> None:
        self._move(s, LI.QUORUM_NEW_LEADER)
        del self.syncs[s.conn]
        self.on_synced(s)

    # -- observers and time ------------------------------------------------------

    def observe(self, msg: Message) -> list[int]:
        """Queue a broadcast for every syncing connection; returns the overflowed."""
        limit = self.ctx.limits.max_observer_messages
        full = []
        for s in self.syncs.values():
            s.observer.append(msg)
            if len(s.observer) > limit:
                full.append(s.conn)
        return full

    def expired(self, now: float) -> list[int]:
        return [s.conn for s in self.syncs.values() if s.deadline <= now]

    def next_deadline(self) -> float | None:
        return min((s.deadline for s in self.syncs.values()), default=None)


def m_txid(msg: Message) -> int:
    txnid = getattr(msg, "txnid", 0)
    assert isinstance(txnid, int)
    return txnid


def _marker(op: OpCode, txid: int) -> LogEntry:
    key = STREAM_BEGIN_KEY if op is OpCode.STREAM_BEGIN else STREAM_END_KEY
    return LogEntry(txnid=txid, op_code=int(op), key=key, content=key.encode())


# ---------------------------------------------------------------------------
# Follower side


class FollowerSyncState(enum.Enum):
    CONNECTING = "CONNECTING"
    WAIT_LEADER_INFO = "WAIT_LEADER_INFO"
    RECEIVING_STREAM = "RECEIVING_STREAM"
    WAIT_NEW_LEADER = "WAIT_NEW_LEADER"
    DONE = "DONE"
    FAILED = "FAILED"
    """The sync failed; the follower's run ends with it."""


class FollowerSyncInput(enum.Enum):
    RECV_CONNECTED = "RECV_CONNECTED"
    RECV_LEADER_INFO = "RECV_LEADER_INFO"
    RECV_LOG_ENTRY = "RECV_LOG_ENTRY"
    RECV_STREAM_END = "RECV_STREAM_END"
    RECV_NEW_LEADER = "RECV_NEW_LEADER"
    RECV_OTHER = "RECV_OTHER"
    """Any other frame (a Proposal, a Commit, ...)."""


FS, FI = FollowerSyncState, FollowerSyncInput

FOLLOWER_SYNC_TRANSITIONS: dict[tuple[FollowerSyncState, FollowerSyncInput], FollowerSyncState] = {
    (FS.CONNECTING, FI.RECV_CONNECTED): FS.WAIT_LEADER_INFO,
    (FS.WAIT_LEADER_INFO, FI.RECV_LEADER_INFO): FS.RECEIVING_STREAM,
    (FS.RECEIVING_STREAM, FI.RECV_LOG_ENTRY): FS.RECEIVING_STREAM,
    (FS.RECEIVING_STREAM, FI.RECV_STREAM_END): FS.WAIT_NEW_LEADER,
    (FS.WAIT_NEW_LEADER, FI.RECV_NEW_LEADER): FS.DONE,
}
"""The follower's (and watcher's) table; any other pair fails the sync (FAILED).
``RECV_CONNECTED`` outside CONNECTING is the driver's error instead
(:class:`LocalProtocolError`, no move)."""


class FollowerSync:
    """The follower side of one sync on the dialled connection ``conn``."""

    def __init__(
        self, ctx: Context, *, conn: int, leader_id: str, voting: bool, deadline: float
    ) -> None:
        self.ctx = ctx
        self.conn = conn
        self.leader_id = leader_id
        self.voting = voting
        self.deadline = deadline
        self.state = FS.CONNECTING
        self.epoch = 0
        self.horizon = 0
        self.entries: list[LogEntry] = []

    def _move(self, inp: FollowerSyncInput) -> None:
        old = self.state
        nxt = FOLLOWER_SYNC_TRANSITIONS.get((old, inp))
        if nxt is None:
            raise RemoteProtocolError("unexpected-message", f"{inp.value} in {old.value}")
        self.state = nxt
        self.ctx.trace("follower_sync", old.value, inp.value, nxt.value, conn=self.conn)

    def _fail(self, reason: str) -> None:
        if self.state is FS.FAILED:
            return  # already failed: the run is ending
        old, self.state = self.state, FS.FAILED
        self.ctx.trace("follower_sync", old.value, reason, FS.FAILED.value, conn=self.conn)

    def connected(self) -> None:
        if self.state is not FS.CONNECTING:
            raise LocalProtocolError("already-connected", f"conn {self.conn} in {self.state}")
        self._move(FI.RECV_CONNECTED)
        self.ctx.send(
            self.conn,
            FollowerInfo(
                accepted_epoch=self.ctx.state.accepted_epoch, fid=self.ctx.fid, voting=self.voting
            ),
        )

    def receive(self, msg: Message) -> bool:
        """Handle one frame; True once the sync is done (NewLeaderAck sent).

        Raises :class:`RemoteProtocolError` after moving to FAILED.
        """
        try:
            return self._receive(msg)
        except RemoteProtocolError as exc:
            self._fail(exc.reason)
            raise

    def _receive(self, msg: Message) -> bool:
        if isinstance(msg, LeaderInfo):
            self._move(FI.RECV_LEADER_INFO)
            self._leader_info(msg)
        elif isinstance(msg, LogEntry):
            if msg.op_code == OpCode.STREAM_END:
                self._move(FI.RECV_STREAM_END)
                self.horizon = msg.txnid
                self._apply_stream()
            else:
                self._move(FI.RECV_LOG_ENTRY)
                if msg.op_code == OpCode.STREAM_BEGIN:
                    self.horizon = msg.txnid
                else:
                    if len(self.entries) >= self.ctx.limits.max_sync_entries:
                        raise RemoteProtocolError("sync-too-long", str(len(self.entries)))
                    self.entries.append(msg)
        elif isinstance(msg, NewLeader):
            self._move(FI.RECV_NEW_LEADER)
            if msg.current_epoch != self.epoch:
                raise RemoteProtocolError(
                    "new-leader-epoch", f"NewLeader {msg.current_epoch} != LeaderInfo {self.epoch}"
                )
            self.ctx.persist_epochs(current=msg.current_epoch)
            self.ctx.send(self.conn, NewLeaderAck())
            return True
        else:
            self._move(FI.RECV_OTHER)  # in no state: raises
        return False

    def _leader_info(self, msg: LeaderInfo) -> None:
        st = self.ctx.state
        e = msg.accepted_epoch
        if e < st.accepted_epoch:
            raise RemoteProtocolError(
                "stale-epoch",
                "Protocol Error : Accepted Epoch from leader is smaller or equal to my epoch.",
            )
        if e >= MAX_EPOCH:
            raise RemoteProtocolError("epoch-overflow", str(e))
        if e == st.accepted_epoch and st.accepted_leader not in ("", self.leader_id):
            raise RemoteProtocolError(
                "epoch-owned", f"epoch {e} was accepted from {st.accepted_leader}"
            )
        self.epoch = e
        self.ctx.persist_epochs(accepted=e, leader=self.leader_id)
        # Start from the last *committed* txid: the stream then replaces any
        # uncommitted tail we hold (no TRUNC in gometa; SAFETY.md W25).
        self.ctx.send(
            self.conn,
            EpochAck(last_logged_txid=st.last_committed_txid, current_epoch=st.current_epoch),
        )

    def _apply_stream(self) -> None:
        ctx, st = self.ctx, self.ctx.state
        ctx.log_truncate(st.last_committed_txid)
        for entry in self.entries:
            txid = entry.txnid
            if txid in st.committed:
                continue
            ctx.log_append(txid, entry.op_code, entry.key, entry.content)
            if txid <= self.horizon and txid > st.last_committed_txid:
                ctx.commit(txid)
        self.entries = []
