"""Any node behind a command template, so users can plug in their own.

The template is an argv list whose items may contain ``{config}`` (the
gometa JSON config path), ``{data}`` (a data directory kept across
restarts), ``{state}`` (the initial-state JSON path, or empty) and
``{name}``. The node must print the JSON event lines described in
``harness.targets.base`` for roles and state to be observable.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path

from harness.targets.base import InitialState, Member, MemberConfig, ProcessMember, Target


class CommandMember(ProcessMember):
    """A member whose argv is a filled-in template."""

    def __init__(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
        *,
        template: Sequence[str],
    ) -> None:
        super().__init__(name, config, workdir, initial_state)
        self.template = tuple(template)

    def command(self) -> list[str]:
        values = {
            "config": str(self.config_path),
            "data": str(self.data_dir),
            "state": str(self.state_path or ""),
            "name": self.name,
        }
        return [part.format(**values) for part in self.template]


class CommandTarget(Target):
    """Members started from ``template`` (a list, or a shell-style string)."""

    def __init__(self, template: Sequence[str] | str, *, name: str = "command") -> None:
        self.template = shlex.split(template) if isinstance(template, str) else list(template)
        self.name = name

    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member:
        return CommandMember(name, config, workdir, initial_state, template=self.template)
