"""UDP fast leader election (spec §4, gometa ``protocol/fast_election.go``).

Theory of operation
-------------------
One :class:`ElectionSite` lives for one run of the node. It starts a ballot
(round = the process's last winning round + 1), proposes the node's own vote
and multicasts it to every other member. Each vote that arrives from a member
address is handled by the rules of spec §4.5: ELECTING votes move rounds and
proposals, LEADING/FOLLOWING votes build the "active peers" map through which
a node joins an established ensemble. As soon as a quorum agrees with the
proposal the site waits ``ballot_finalize_wait`` (200 ms) for a better vote;
when the wait ends the proposal wins. A retry timer re-multicasts the
proposal with exponential backoff (50 ms doubling to 500 ms), reset to 50 ms
by every member vote. A single-member ensemble wins at once.

After the win the site stays open for the rest of the run and answers
ELECTING votes (and solicit votes while LEADING/FOLLOWING) with the winning
vote, whose epoch the node raises once discovery has settled it.

Divergences (all against malformed input only, see SAFETY.md): a
datagram that is not a Vote, a non-solicit vote with a status outside 0..2,
or an ELECTING vote for a candidate that is not a member is dropped and
changes nothing (W1, W2, W12, W15); the ballot is known to the vote handler
before any vote is counted, so the W41 race cannot happen.

The site is pure: it appends effects to the node's outbox and exposes its
deadlines; the node calls :meth:`handle_timer`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import replace

from wire import PeerStatus, Vote

from .effects import Effect, SendDatagram
from .errors import LocalProtocolError
from .trace import Tracer
from .votes import Order, compare_votes, count_agreeing

ROUND_MASK = (1 << 64) - 1


class ElectionState(enum.Enum):
    IDLE = "IDLE"
    """No ballot yet."""
    BALLOTING = "BALLOTING"
    FINALIZING = "FINALIZING"
    """Quorum seen; the 200 ms finalize timer runs."""
    DECIDED = "DECIDED"
    """A winner exists; the site only answers inquiries."""


class ElectionInput(enum.Enum):
    SEND_START = "SEND_START"
    RECV_VOTE = "RECV_VOTE"
    RECV_SOLICIT = "RECV_SOLICIT"
    TIMEOUT_RETRY = "TIMEOUT_RETRY"
    TIMEOUT_FINALIZE = "TIMEOUT_FINALIZE"


S, EI = ElectionState, ElectionInput

TRANSITIONS: dict[tuple[ElectionState, ElectionInput], frozenset[ElectionState]] = {
    (S.IDLE, EI.SEND_START): frozenset({S.BALLOTING, S.DECIDED}),
    (S.BALLOTING, EI.RECV_VOTE): frozenset({S.BALLOTING, S.FINALIZING}),
    (S.BALLOTING, EI.RECV_SOLICIT): frozenset({S.BALLOTING}),
    (S.BALLOTING, EI.TIMEOUT_RETRY): frozenset({S.BALLOTING}),
    (S.FINALIZING, EI.RECV_VOTE): frozenset({S.BALLOTING, S.FINALIZING}),
    (S.FINALIZING, EI.RECV_SOLICIT): frozenset({S.FINALIZING}),
    (S.FINALIZING, EI.TIMEOUT_RETRY): frozenset({S.FINALIZING}),
    (S.FINALIZING, EI.TIMEOUT_FINALIZE): frozenset({S.DECIDED}),
    (S.DECIDED, EI.RECV_VOTE): frozenset({S.DECIDED}),
    (S.DECIDED, EI.RECV_SOLICIT): frozenset({S.DECIDED}),
}
"""Every allowed (state, input) pair and the states it may lead to.

Missing pairs: a vote before SEND_START and a second SEND_START are the
caller's error (:class:`LocalProtocolError`, nothing changes; the node starts
its site as it creates it); a TIMEOUT_* with its timer not armed does nothing
(the site arms the retry timer only while balloting, the finalize timer only
while finalizing).
"""


class ElectionSite:
    """One run's election: the ballot, its timers and the inquiry answers."""

    def __init__(
        self,
        *,
        me: str,
        peers: tuple[str, ...],
        start_round: int,
        solicit_only: bool,
        has_quorum: Callable[[int], bool],
        current_vote: Callable[[], tuple[int, int, int]],
        status: Callable[[], int],
        emit: Callable[[Effect], None],
        ballot_timeout: float = 0.050,
        ballot_max_timeout: float = 0.500,
        finalize_wait: float = 0.200,
        trace: Tracer | None = None,
    ) -> None:
        self.me = me
        self.peers = tuple(p for p in peers if p != me)
        self.full_ensemble = frozenset((*self.peers, me))
        self.round = start_round
        self.solicit_only = solicit_only
        self._has_quorum = has_quorum
        self._current_vote = current_vote
        self._status = status
        self._emit = emit
        self._ballot_timeout = ballot_timeout
        self._ballot_max_timeout = ballot_max_timeout
        self._finalize_wait = finalize_wait
        self.state = ElectionState.IDLE
        self.proposal: Vote | None = None
        self.received: dict[str, Vote] = {}
        self.active: dict[str, Vote] = {}
        self.winner: Vote | None = None
        self.winning_epoch = 0
        self.retry_at: float | None = None
        self._retry_interval = ballot_timeout
        self.finalize_at: float | None = None
        self._trace = trace if trace is not None else Tracer()

    # -- helpers ---------------------------------------------------------------

    def _go(self, inp: ElectionInput, new: ElectionState) -> None:
        allowed = TRANSITIONS.get((self.state, inp))
        if allowed is None or new not in allowed:  # pragma: no cover - a bug
            raise LocalProtocolError("bad-transition", f"{self.state} --{inp}--> {new}")
        old, self.state = self.state, new
        self._trace("election", old.value, inp.value, new.value)

    def state_vote(self) -> Vote:
        """The vote built from the node's current state (spec §4.3)."""
        epoch, logged, committed = self._current_vote()
        return Vote(
            round=self.round,
            status=self._status(),
            epoch=epoch,
            cnd_id=self.me,
            cnd_logged_txn_id=logged,
            cnd_committed_txn_id=committed,
            solicit=self.solicit_only,
        )

    def _proposal_copy(self) -> Vote:
        p = self.proposal
        assert p is not None
        return Vote(
            round=self.round,
            status=self._status(),
            epoch=p.epoch,
            cnd_id=p.cnd_id,
            cnd_logged_txn_id=p.cnd_logged_txn_id,
            cnd_committed_txn_id=p.cnd_committed_txn_id,
            solicit=self.solicit_only,
        )

    def _multicast(self, vote: Vote) -> None:
        for peer in self.peers:
            self._emit(SendDatagram(to=peer, msg=vote))

    def _update_proposed(self, vote: Vote) -> None:
        self.proposal = vote
        self.round = vote.round
        self.received[self.me] = vote

    def _reset_and_update(self, vote: Vote) -> None:
        self.received = {}
        self.active = {}
        self._update_proposed(vote)

    def winning_vote(self) -> Vote | None:
        """The reply to an inquiry (spec §4.7), or None without a winner."""
        w = self.winner
        if w is None:
            return None
        return replace(
            w, status=self._status(), epoch=self.winning_epoch, solicit=self.solicit_only
        )

    def update_winning_epoch(self, epoch: int) -> None:
        if self.winner is not None:
            self.winning_epoch = epoch

    def _respond_inquiry(self, src: str, vote: Vote) -> None:
        if vote.status == PeerStatus.ELECTING:
            reply = self.winning_vote()
            if reply is not None:
                self._emit(SendDatagram(to=src, msg=reply))

    # -- inputs -----------------------------------------------------------------

    def start(self, now: float) -> str | None:
        """SEND_START: cast a ballot. Returns the winner at once if it wins alone.

        Only in IDLE: a site holds one ballot (a new run gets a new site), so
        a second start is the caller's error and changes nothing.
        """
        if self.state is not S.IDLE:
            raise LocalProtocolError("already-started", f"SEND_START in {self.state.value}")
        self.round = (self.round + 1) & ROUND_MASK
        self.received, self.active = {}, {}
        self._update_proposed(self.state_vote())
        self._multicast(self._proposal_copy())
        assert self.proposal is not None
        if not self.solicit_only and self._has_quorum(count_agreeing(self.received, self.proposal)):
            self._go(EI.SEND_START, S.DECIDED)
            return self._decide()
        self._go(EI.SEND_START, S.BALLOTING)
        self._retry_interval = self._ballot_timeout
        self.retry_at = now + self._retry_interval
        self.finalize_at = None
        return None

    def receive(self, src: str, vote: Vote, now: float) -> None:
        """RECV_VOTE / RECV_SOLICIT: one well-formed vote from ``src``."""
        if self.state is S.IDLE:
            raise LocalProtocolError("not-started", "a vote before SEND_START")
        if vote.solicit:
            self._go(EI.RECV_SOLICIT, self.state)
            if self._status() in (PeerStatus.LEADING, PeerStatus.FOLLOWING):
                self._respond_inquiry(src, vote)
            return
        if src not in self.full_ensemble:
            return
        if self.state is S.DECIDED:
            self._go(EI.RECV_VOTE, self.state)
            self._respond_inquiry(src, vote)
            return
        self._retry_interval = self._ballot_timeout
        self.retry_at = now + self._retry_interval
        assert self.proposal is not None
        before = self._proposal_copy()
        if self._handle_vote(src, vote):
            updated = compare_votes(self.proposal, before) is not Order.EQUAL
            if self.state is not S.FINALIZING or updated:
                self.finalize_at = now + self._finalize_wait
            self._go(EI.RECV_VOTE, S.FINALIZING)
        else:
            if self.state is S.FINALIZING:
                self.finalize_at = None
            self._go(EI.RECV_VOTE, S.BALLOTING)

    def handle_timer(self, now: float) -> str | None:
        """TIMEOUT_FINALIZE / TIMEOUT_RETRY. Returns the winner when decided."""
        if self.finalize_at is not None and now >= self.finalize_at:
            self._go(EI.TIMEOUT_FINALIZE, S.DECIDED)
            return self._decide()
        if self.retry_at is not None and now >= self.retry_at:
            if self.state in (S.BALLOTING, S.FINALIZING):
                self._go(EI.TIMEOUT_RETRY, self.state)
                self._multicast(self._proposal_copy())
                self._retry_interval = min(self._retry_interval * 2, self._ballot_max_timeout)
                self.retry_at = now + self._retry_interval
            else:
                self.retry_at = None
        return None

    def next_deadline(self) -> float | None:
        ds = [d for d in (self.retry_at, self.finalize_at) if d is not None]
        return min(ds) if ds else None

    # -- gometa's handleVote ------------------------------------------------------

    def _decide(self) -> str:
        assert self.proposal is not None
        self.winner = self.proposal
        self.winning_epoch = self.proposal.epoch
        self.retry_at = None
        self.finalize_at = None
        return self.proposal.cnd_id

    def _check(self, votes: dict[str, Vote], cand: Vote) -> bool:
        return self._has_quorum(count_agreeing(votes, cand))

    def _certify(self, vote: Vote) -> bool:
        if vote.cnd_id != self.me:
            leader = self.active.get(vote.cnd_id)
            return leader is not None and leader.status == PeerStatus.LEADING
        return self.round == vote.round

    def _handle_vote(self, src: str, v: Vote) -> bool:
        assert self.proposal is not None
        if v.status == PeerStatus.ELECTING:
            if v.round > self.round:
                self.round = v.round
                cur = self.state_vote()
                self._reset_and_update(v if compare_votes(v, cur) is Order.GREATER else cur)
                self._multicast(self._proposal_copy())
                self.received[src] = v
                return self._check(self.received, self.proposal)
            if v.round == self.round:
                order = compare_votes(v, self.proposal)
                if order is Order.GREATER:
                    self._update_proposed(v)
                    self._multicast(self._proposal_copy())
                if order is not Order.LESSER:
                    self.received[src] = v
                    return self._check(self.received, self.proposal)
                return False
            self._emit(SendDatagram(to=src, msg=self._proposal_copy()))
            return False
        if v.round == self.round:
            self.received[src] = v
            if self._check(self.received, v) and self._certify(v):
                self._update_proposed(v)
                return True
        self.active[src] = v
        if self._check(self.active, v) and self._certify(v):
            self._update_proposed(v)
            return True
        return False
