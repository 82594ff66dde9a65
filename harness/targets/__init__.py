"""Targets: one interface to start, stop, kill, pause and observe any node.

``Target`` makes ``Member`` objects from a gometa config; ``GoHostTarget``
runs the genuine Go node, ``CommandTarget`` any command template, and the
reference node plugs in the same way (a ``ProcessMember`` subclass naming its
command). ``Ensemble`` starts N members on private loopback addresses.
"""

from harness.targets.base import (
    Event,
    InitialState,
    LogEntry,
    Member,
    MemberConfig,
    ProcessMember,
    Role,
    Target,
    TargetError,
)
from harness.targets.ensemble import Ensemble, start_stable_ensemble
from harness.targets.generic import CommandMember, CommandTarget
from harness.targets.gohost import GoHostMember, GoHostTarget
from harness.targets.mixed import MixedTarget
from harness.targets.refnode import RefnodeMember, RefnodeTarget

__all__ = [
    "CommandMember",
    "CommandTarget",
    "Ensemble",
    "Event",
    "GoHostMember",
    "GoHostTarget",
    "InitialState",
    "LogEntry",
    "Member",
    "MemberConfig",
    "MixedTarget",
    "ProcessMember",
    "RefnodeMember",
    "RefnodeTarget",
    "Role",
    "Target",
    "TargetError",
    "start_stable_ensemble",
]
