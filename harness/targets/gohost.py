"""The genuine Go gometa member (harness/gometa_host) as a target."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

from harness.binaries import gometa_host
from harness.targets.base import InitialState, Member, MemberConfig, ProcessMember, Target


class GoHostMember(ProcessMember):
    """``gometa-host -config FILE -data DIR [-state FILE] [-embedded]``."""

    def __init__(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
        *,
        binary: Path,
        embedded: bool = False,
        persistent: bool = True,
    ) -> None:
        super().__init__(name, config, workdir, initial_state)
        self.binary = binary
        self.embedded = embedded
        self.persistent = persistent

    def command(self) -> list[str]:
        argv = [str(self.binary), "-config", str(self.config_path)]
        if self.persistent:
            argv += ["-data", str(self.data_dir)]
        if self.state_path is not None:
            argv += ["-state", str(self.state_path)]
        if self.embedded:
            argv.append("-embedded")
        return argv

    def state(self, timeout: float = 5.0) -> dict[str, Any]:
        """Read GET /gometa-host/state on the request port; SIGUSR1 otherwise."""
        url = f"http://{self.config.host.request}/gometa-host/state"
        try:
            with urllib.request.urlopen(url, timeout=timeout) as resp:
                data: dict[str, Any] = json.load(resp)
                return data
        except OSError:
            return super().state(timeout)


class GoHostTarget(Target):
    """Members that run the Go host binary (found via ``harness.binaries``)."""

    name = "go"

    def __init__(self, *, embedded: bool = False, persistent: bool = True) -> None:
        self.binary = gometa_host()
        self.embedded = embedded
        self.persistent = persistent

    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member:
        return GoHostMember(
            name,
            config,
            workdir,
            initial_state,
            binary=self.binary,
            embedded=self.embedded,
            persistent=self.persistent,
        )
