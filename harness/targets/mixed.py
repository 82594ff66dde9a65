"""An ensemble of different implementations: member i runs ``targets[i]``.

Mixed ensembles are how compatibility is proven: the reference node and the
Go node must elect, sync and commit together, each kind leading in turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from harness.targets.base import InitialState, Member, MemberConfig, Target, TargetError


class MixedTarget(Target):
    """Members ``m1``, ``m2``, … are made by ``targets[0]``, ``targets[1]``, …"""

    def __init__(self, targets: Sequence[Target]) -> None:
        self.targets = tuple(targets)
        self.name = "+".join(t.name for t in self.targets)

    def target_of(self, name: str) -> Target:
        """The target behind member ``name`` (``m<index + 1>``)."""
        index = int(name.removeprefix("m")) - 1
        if not 0 <= index < len(self.targets):
            raise TargetError(f"{self.name}: no target for member {name}")
        return self.targets[index]

    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member:
        return self.target_of(name).member(name, config, workdir, initial_state)
