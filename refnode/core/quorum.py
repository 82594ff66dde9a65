"""Quorum arithmetic, kept pure so it can be checked against a dumb reference.

gometa uses three rules (spec §4.5, §5.3, §7):

* a standalone member: ``count > ensemble_size // 2`` with
  ``ensemble_size = peers + 1``;
* a watcher with election: ``count > peers // 2``;
* the embedded single leader: ``count == 1``.
"""

from __future__ import annotations


def majority(count: int, ensemble_size: int) -> bool:
    """True when ``count`` votes out of ``ensemble_size`` form a strict majority."""
    return count > ensemble_size // 2


def watcher_quorum(count: int, peers: int) -> bool:
    """The watcher program's rule: more than half of the members it knows."""
    return count > peers // 2


def embedded_quorum(count: int) -> bool:
    """The embedded leader's rule: exactly its own vote."""
    return count == 1


def lost_quorum(followers: int, ensemble_size: int) -> bool:
    """The leader steps down when ``followers + 1 <= ensemble_size // 2`` (spec §6.5)."""
    return followers + 1 <= ensemble_size // 2
