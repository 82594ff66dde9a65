"""Vote ordering (spec §4.4), a pure sub-problem of the election.

Votes are compared on ``epoch``, then ``cnd_logged_txn_id``, then
``cnd_committed_txn_id``, then ``cnd_id`` as a byte-wise string; round and
status take no part. ``cnd_id`` strings hold the wire bytes decoded with
``surrogateescape`` (see ``wire``), so comparing their encodings gives Go's
byte order exactly.
"""

from __future__ import annotations

import enum

from wire import Vote


class Order(enum.IntEnum):
    """Result of :func:`compare_votes` (gometa's CompareResult subset)."""

    EQUAL = 0
    GREATER = 1
    LESSER = 2


def _id_bytes(cnd_id: str) -> bytes:
    return cnd_id.encode("utf-8", "surrogateescape")


def vote_key(vote: Vote) -> tuple[int, int, int, bytes]:
    """The sort key whose order is gometa's ``compareVote`` order."""
    return (vote.epoch, vote.cnd_logged_txn_id, vote.cnd_committed_txn_id, _id_bytes(vote.cnd_id))


def compare_votes(a: Vote, b: Vote) -> Order:
    """Compare two votes as gometa does: GREATER when ``a`` wins."""
    ka, kb = vote_key(a), vote_key(b)
    if ka > kb:
        return Order.GREATER
    if ka < kb:
        return Order.LESSER
    return Order.EQUAL


def count_agreeing(votes: dict[str, Vote], candidate: Vote) -> int:
    """How many votes in ``votes`` agree with ``candidate`` (gometa ``checkQuorum``).

    When either side is ELECTING a vote counts only if it is EQUAL and has the
    same round; otherwise it counts when ``cnd_id`` and ``epoch`` match.
    """
    count = 0
    for vote in votes.values():
        if vote.status == 0 or candidate.status == 0:
            if compare_votes(vote, candidate) is Order.EQUAL and vote.round == candidate.round:
                count += 1
        elif vote.cnd_id == candidate.cnd_id and vote.epoch == candidate.epoch:
            count += 1
    return count
