"""The reference node (``gmc node``) as a target.

It speaks the same event-line contract as the Go host, so everything in
``harness.targets`` (roles, winners, state dumps, ensembles) works unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.targets.base import InitialState, Member, MemberConfig, ProcessMember, Target


class RefnodeMember(ProcessMember):
    """``python -m harness.cli node --config FILE --data DIR [--state FILE]``."""

    def __init__(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
        *,
        durable: bool = True,
        persistent: bool = True,
        embedded: bool = False,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        super().__init__(name, config, workdir, initial_state)
        self.durable = durable
        self.persistent = persistent
        self.embedded = embedded
        self.extra_args = extra_args

    def command(self) -> list[str]:
        argv = [sys.executable, "-m", "harness.cli", "node", "--config", str(self.config_path)]
        if self.persistent:
            argv += ["--data", str(self.data_dir)]
        if self.state_path is not None:
            argv += ["--state", str(self.state_path)]
        if not self.durable:
            argv.append("--no-fsync")
        if self.embedded:
            argv.append("--embedded")
        return [*argv, *self.extra_args]


class RefnodeTarget(Target):
    """Members that run the reference node in its own Python process."""

    name = "refnode"

    def __init__(
        self,
        *,
        durable: bool = True,
        persistent: bool = True,
        embedded: bool = False,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.durable = durable
        self.persistent = persistent
        self.embedded = embedded
        self.extra_args = extra_args

    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member:
        return RefnodeMember(
            name,
            config,
            workdir,
            initial_state,
            durable=self.durable,
            persistent=self.persistent,
            embedded=self.embedded,
            extra_args=self.extra_args,
        )
