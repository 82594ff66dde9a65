"""The target interface and the process-backed member every target shares.

A member is driven from outside as a process and observed through JSON event
lines on its stdout (the contract of harness/gometa_host/README.md: one
object per line with ``event`` and ``ts``; ``status`` events carry
``status`` and ``run``, ``winner`` events ``winner`` and ``run``, a ``state``
event answers SIGUSR1 with the full state). Any implementation that prints
those lines gets roles, winners and state for free.
"""

from __future__ import annotations

import enum
import json
import os
import signal
import subprocess
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refnode.config import GometaConfig

Event = dict[str, Any]


class TargetError(RuntimeError):
    """A member did not do what the harness waited for."""


class Role(enum.Enum):
    """The member's PeerStatus as its events report it (spec §0)."""

    ELECTING = "ELECTING"
    LEADING = "LEADING"
    FOLLOWING = "FOLLOWING"
    WATCHING = "WATCHING"


MemberConfig = GometaConfig
"""One member's view of the ensemble, written as gometa's JSON config."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogEntry:
    """One commit-log record of an initial state."""

    txid: int
    op_code: int
    key: str
    content: bytes
    committed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InitialState:
    """Persisted state a member starts from (the host's ``-state`` file)."""

    accepted_epoch: int = 0
    current_epoch: int = 0
    log: tuple[LogEntry, ...] = ()
    last_logged_txid: int | None = None
    last_committed_txid: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted_epoch": self.accepted_epoch,
            "current_epoch": self.current_epoch,
            "log": [
                {
                    "txid": e.txid,
                    "op_code": e.op_code,
                    "key": e.key,
                    "content_hex": e.content.hex(),
                    "committed": e.committed,
                }
                for e in self.log
            ],
        }
        if self.last_logged_txid is not None:
            out["last_logged_txid"] = self.last_logged_txid
        if self.last_committed_txid is not None:
            out["last_committed_txid"] = self.last_committed_txid
        return out

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(self.to_json(), indent=2) + "\n")
        return path


class Member(ABC):
    """One node under test. Every implementation offers these verbs."""

    name: str
    config: MemberConfig

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def stop(self, timeout: float = 5.0) -> None:
        """Graceful: SIGTERM, then SIGKILL after ``timeout``."""

    @abstractmethod
    def kill(self) -> None:
        """kill -9: no cleanup, persisted data stays as it is."""

    @abstractmethod
    def pause(self) -> None: ...

    @abstractmethod
    def resume(self) -> None: ...

    @abstractmethod
    def restart(self) -> None:
        """Start again on the same data directory."""

    @abstractmethod
    def wait_role(self, role: Role, timeout: float = 10.0) -> Event: ...

    @abstractmethod
    def state(self, timeout: float = 5.0) -> dict[str, Any]:
        """Epochs, txids, log and data, as the member reports them."""

    @property
    @abstractmethod
    def running(self) -> bool: ...


class Target(ABC):
    """A kind of node: makes members from a config and a working directory."""

    name: str

    @abstractmethod
    def member(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> Member: ...


class ProcessMember(Member):
    """A member that is one OS process speaking the event-line contract.

    Subclasses only say which command to run. The stdout reader thread keeps
    the events of the current incarnation; stderr goes to ``stderr.log``.
    """

    def __init__(
        self,
        name: str,
        config: MemberConfig,
        workdir: Path,
        initial_state: InitialState | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = config.write(workdir / "config.json")
        self.data_dir = workdir / "data"
        self.state_path = initial_state.write(workdir / "state.json") if initial_state else None
        self.events: list[Event] = []
        self.incarnation = 0
        self._cond = threading.Condition()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None

    @abstractmethod
    def command(self) -> list[str]:
        """argv that runs this member."""

    # ---- lifecycle

    def start(self) -> None:
        if self.running:
            raise TargetError(f"{self.name} is already running")
        with self._cond:
            self.events = []
            self.incarnation += 1
        stderr = (self.workdir / "stderr.log").open("ab")
        self._proc = subprocess.Popen(
            self.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=stderr
        )
        stderr.close()
        self._reader = threading.Thread(
            target=self._read_events, args=(self._proc,), name=f"events-{self.name}", daemon=True
        )
        self._reader.start()

    def _read_events(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        with (self.workdir / "events.jsonl").open("ab") as log:
            for line in proc.stdout:
                log.write(line)
                log.flush()
                try:
                    event = json.loads(line)
                except ValueError:
                    event = {"event": "unparsed", "line": line.decode(errors="replace")}
                with self._cond:
                    if self._proc is proc:
                        self.events.append(event)
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def _signal(self, sig: int) -> None:
        if self._proc is not None and self._proc.poll() is None:
            os.kill(self._proc.pid, sig)

    def _reap(self) -> None:
        if self._proc is not None:
            self._proc.wait()
            if self._reader is not None:
                self._reader.join(timeout=2)
            if self._proc.stdout is not None:
                self._proc.stdout.close()

    def stop(self, timeout: float = 5.0) -> None:
        if self._proc is None:
            return
        self.resume()
        self._signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
        self._reap()

    def kill(self) -> None:
        if self._proc is None:
            return
        self._signal(signal.SIGKILL)
        self._reap()

    def pause(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def restart(self) -> None:
        if self.running:
            self.stop()
        self.start()

    # ---- observation

    def wait_event(
        self, pred: Callable[[Event], bool], timeout: float = 10.0, since: int = 0
    ) -> Event:
        """The first event from index ``since`` on that satisfies ``pred``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for ev in self.events[since:]:
                    if pred(ev):
                        return ev
                left = deadline - time.monotonic()
                if left <= 0 or (
                    self._proc is not None
                    and self._proc.poll() is not None
                    and not self._reader_alive()
                ):
                    raise TargetError(f"{self.name}: no matching event within {timeout}s")
                self._cond.wait(min(left, 0.1))

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def snapshot(self) -> list[Event]:
        with self._cond:
            return list(self.events)

    def role(self) -> Role | None:
        """The status of the latest ``status`` event, if any."""
        for ev in reversed(self.snapshot()):
            if ev.get("event") == "status":
                return Role(ev["status"])
        return None

    def winner(self) -> str | None:
        """The winner of the current run, once its election finished."""
        run = None
        for ev in reversed(self.snapshot()):
            if ev.get("event") == "status" and run is None:
                run = ev.get("run")
            if ev.get("event") == "winner" and ev.get("run") == run:
                return str(ev["winner"])
        return None

    def wait_role(self, role: Role, timeout: float = 10.0) -> Event:
        return self.wait_event(
            lambda ev: ev.get("event") == "status" and ev.get("status") == role.value, timeout
        )

    def has_event(self, pred: Callable[[Event], bool]) -> bool:
        return any(pred(ev) for ev in self.snapshot())

    def state(self, timeout: float = 5.0) -> dict[str, Any]:
        """Ask for a ``state`` event with SIGUSR1 and return it."""
        with self._cond:
            mark = len(self.events)
        self._signal(signal.SIGUSR1)
        return self.wait_event(lambda ev: ev.get("event") == "state", timeout, since=mark)
