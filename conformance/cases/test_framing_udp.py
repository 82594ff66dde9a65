"""Spec §12.2: framing on the UDP election port of a leader.

Each case gets an ensemble of its own: on Go a bad datagram closes the
election messenger for the rest of the run (W1, W2). After the datagram, the
W41-style liveness probe asks the leader who won (a solicit from a fresh
socket, spec §4.5 rule 1): a node that dropped only the bad datagram
answers; a Go node whose ElectionSite closed stays silent.
"""

from __future__ import annotations

import time

import pytest

import wire
from conformance.plugin import Judge, Sut, case
from conformance.probe import Voter, answers_solicit, solicit
from conformance.verdicts import Outcome, Verdict
from wire import craft

pytestmark = pytest.mark.framing

GAP = 0.1
"""The spec's 100 ms between the bad datagram and the valid one."""


def _drop_only(judge: Judge, sut: Sut, datagram: bytes, what: str) -> None:
    """Send ``datagram`` from a fresh address, then probe liveness."""
    with Voter() as voter:
        voter.send(datagram, sut.election)
        direct = voter.replies(GAP)
    alive = answers_solicit(sut.election)
    judge.observe(replies_to_bad=len(direct), solicit_after=alive, datagram_len=len(datagram))
    if direct:
        judge.conclude(Outcome.OTHER, f"replied to {what}")
    elif alive:
        judge.conclude(Outcome.STRICT, f"dropped {what}; still answers a solicit")
    else:
        judge.conclude(Outcome.GO_DEVIATION, f"stopped answering solicits after {what}")


@case("FU-02", go=Verdict.KNOWN_GO_DEVIATION, go_note="W1: messenger closed on a short datagram")
def test_fu_02_short_datagram(fresh_sut: Sut, judge: Judge) -> None:
    """FU-02: send a 7-byte datagram, then a valid Vote 100 ms later; the node
    must drop the first and still process the second. [Go: messenger closed,
    second ignored; W1]"""
    _drop_only(judge, fresh_sut, wire.encode(solicit("x"))[:7], "a 7-byte datagram")


@case("FU-03", go=Verdict.KNOWN_GO_DEVIATION, go_note="W1: unknown-name panic recovered")
def test_fu_03_unregistered_name(fresh_sut: Sut, judge: Judge) -> None:
    """FU-03: send a datagram with the unregistered name `Bogus`; the node must
    drop it only. [Go: panic recovered, ElectionSite closed; W1]"""
    payload = wire.encode_body(solicit("x"))
    _drop_only(judge, fresh_sut, craft.datagram("Bogus", payload), "a 'Bogus' datagram")


@case("FU-04", go=Verdict.KNOWN_GO_DEVIATION, go_note="W2: non-Vote cast to Vote panics")
def test_fu_04_commit_on_election_port(fresh_sut: Sut, judge: Judge) -> None:
    """FU-04: send a valid `Commit` frame as a datagram; the node must drop it
    only. [Go: ElectionSite closed; W2]"""
    _drop_only(judge, fresh_sut, wire.encode(wire.Commit(txnid=1)), "a Commit datagram")


@case(
    "FU-05",
    go=Verdict.NON_STRICT,
    lenient_allowed=True,
    go_note="docs/spec-findings.md: gometa accepts a missing required field (solicit reads false)",
)
def test_fu_05_vote_missing_field(fresh_sut: Sut, judge: Judge) -> None:
    """FU-05: send a Vote without field 8; the node must drop it only. [Go:
    messenger closed]

    The Vote comes from a member's election address (the member is killed
    first), so an accepted vote is observable: with no ballot in progress the
    leader answers an ELECTING member vote with its winning vote (§4.5 rule 3).
    """
    follower = fresh_sut.followers()[0]
    follower.kill()
    fields = [f for f in craft.fields_of(solicit(follower.config.host.election)) if f.number != 8]
    bad = craft.datagram("Vote", craft.body(fields))
    with Voter(bind=follower.config.host.election) as voter:
        voter.send(bad, fresh_sut.election)
        direct = voter.replies(0.5)
    alive = answers_solicit(fresh_sut.election)
    votes = [wire.decode_datagram(d) for d in direct]
    judge.observe(replies=len(direct), solicit_after=alive)
    if not alive:
        judge.conclude(Outcome.GO_DEVIATION, "stopped answering solicits (messenger closed)")
    elif any(isinstance(v, wire.Vote) for v in votes):
        judge.conclude(Outcome.LENIENT, "accepted the Vote without field 8 and answered it")
    elif not direct:
        judge.conclude(Outcome.STRICT, "dropped the Vote without field 8; still answers")
    else:
        judge.conclude(Outcome.OTHER, f"unexpected replies {votes!r}")


@case("FU-06", go=Verdict.KNOWN_GO_DEVIATION, go_note="W1: truncated to 1000 bytes, decode fails")
def test_fu_06_oversized_vote(fresh_sut: Sut, judge: Judge) -> None:
    """FU-06: send a 1 200-byte Vote (long cndId); the node must drop it. [Go:
    truncated to 1000 bytes, decode fails, messenger closed]

    The Vote is a solicit: a node that processed it instead of dropping it
    would reply."""
    base = len(wire.encode(solicit("")))
    # cndId of n >= 128 bytes adds n bytes plus one more length-prefix byte.
    datagram = wire.encode(solicit("c" * (1200 - base - 1)))
    assert len(datagram) == 1200, len(datagram)
    _drop_only(judge, fresh_sut, datagram, "a 1 200-byte Vote")


@case("FU-09")
def test_fu_09_non_member_vote(fresh_sut: Sut, judge: Judge) -> None:
    """FU-09: send a valid Vote from a non-member source address; the node must
    ignore it: no reply, no effect on the election.

    The Vote is ELECTING and not a solicit: a node that skipped the
    membership check would answer it with its winning vote (§4.5 rule 3)."""
    leader_before = fresh_sut.leader.winner()
    with Voter() as voter:
        voter.send(wire.encode(solicit(voter.addr, solicit_flag=False)), fresh_sut.election)
        direct = voter.replies(0.5)
    time.sleep(0.2)
    alive = answers_solicit(fresh_sut.election)
    same = fresh_sut.ensemble.agreed_leader() is fresh_sut.leader
    judge.observe(replies=len(direct), solicit_after=alive, leader_unchanged=same)
    if not direct and alive and same and leader_before == fresh_sut.leader.winner():
        judge.conclude(Outcome.STRICT, "ignored the non-member vote; leader unchanged")
    else:
        judge.conclude(
            Outcome.OTHER, f"replies={len(direct)}, solicit_after={alive}, leader_unchanged={same}"
        )
