"""The event-line contract: one JSON object per line on stdout.

The Go host (harness/gometa_host) and the reference node print the same
lines, so the harness observes both the same way: ``status`` (with
``status`` and ``run``), ``winner``, ``accepted_epoch``/``current_epoch``,
``committed``, ``run_end``, ``state`` (the full dump), ``stopped``. Every
line has ``event`` and ``ts`` (Unix seconds).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TextIO

from refnode.core import effects as fx
from refnode.core.store import PersistentState

EventSink = Callable[[str, dict[str, Any]], None]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


@dataclass(slots=True)
class JsonLines:
    """Writes events to a stream, one unbuffered write per line so kill -9 loses none.

    With a real file descriptor the line goes out in a single ``os.write``
    (no Python buffer to flush): per-commit lines are on the hot path.
    """

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    _fd: int | None = None

    def __post_init__(self) -> None:
        try:
            self.stream.flush()
            self._fd = self.stream.fileno()
        except (AttributeError, OSError, ValueError):
            self._fd = None

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        record = {**fields, "ts": time.time(), "event": event}
        line = json.dumps(record, default=str) + "\n"
        if self._fd is not None:
            data = line.encode()
            while data:
                data = data[os.write(self._fd, data) :]
        else:
            self.stream.write(line)
            self.stream.flush()


@dataclass(slots=True)
class EventTranslator:
    """Turns core effects into contract events; remembers what it needs to."""

    sink: EventSink
    message_addr_of: Callable[[str], str | None]
    run: int = 0
    accepted_epoch: int = 0
    current_epoch: int = 0

    def __call__(self, effect: fx.Effect) -> None:
        if isinstance(effect, fx.RunStarted):
            self.run = effect.run
        elif isinstance(effect, fx.RoleChanged):
            if effect.role != "PAUSED":
                self.sink("status", {"status": effect.role, "run": self.run})
        elif isinstance(effect, fx.LeaderElected):
            self.sink(
                "winner",
                {
                    "run": self.run,
                    "winner": effect.leader,
                    "leader": self.message_addr_of(effect.leader),
                    "round": effect.round,
                    "epoch": effect.epoch,
                },
            )
        elif isinstance(effect, fx.PersistEpochs):
            if effect.accepted_epoch > self.accepted_epoch:
                self.accepted_epoch = effect.accepted_epoch
                self.sink("accepted_epoch", {"epoch": effect.accepted_epoch})
            if effect.current_epoch > self.current_epoch:
                self.current_epoch = effect.current_epoch
                self.sink("current_epoch", {"epoch": effect.current_epoch})
        elif isinstance(effect, fx.PersistCommit):
            self.sink("committed", {"txid": effect.txid, "key": effect.key})
        elif isinstance(effect, fx.RunEnded):
            self.sink("run_end", {"run": effect.run, "error": effect.reason})
        elif isinstance(effect, (fx.PersistLogAppend, fx.PersistLogTruncate)):
            return
        elif isinstance(effect, (fx.LeaderReady, fx.FollowerSynced, fx.PeerDropped)):
            self.sink(_snake(type(effect).__name__), asdict(effect))
        elif isinstance(effect, fx.DatagramDropped):
            self.sink("datagram_dropped", asdict(effect))


def state_dump(state: PersistentState) -> dict[str, Any]:
    """The ``state`` event body, in the Go host's shape."""
    return {
        "accepted_epoch": state.accepted_epoch,
        "current_epoch": state.current_epoch,
        "last_logged_txid": state.last_logged_txid,
        "last_committed_txid": state.last_committed_txid,
        "log": [
            {
                "txid": rec.txid,
                "op_code": rec.op_code,
                "key": rec.key,
                "content_hex": rec.content.hex(),
                "committed": rec.txid in state.committed,
            }
            for rec in sorted(state.log.values(), key=lambda r: r.txid)
        ],
        "data_hex": {key: value.hex() for key, value in state.data.items()},
    }
