"""Differential oracle: gometa's own decoder and encoder behind a pipe.

``gometa-host -oracle`` reads one hex frame per line and answers one JSON
line per frame, produced by gometa's ``common.UnMarshall`` and
``common.Marshall`` after the TCP receive path's header checks (see
harness/gometa_host/README.md). One process serves any number of frames.
Field values: integers as ints, bools as bools, strings and bytes as hex
strings, absent optional fields as None.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.binaries import gometa_host

_PIPE_BUDGET = 48 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class OracleResult:
    """gometa's verdict on one frame."""

    ok: bool
    name: str | None = None
    fields: dict[str, Any] | None = None
    reencoded: bytes | None = None
    error: str | None = None


def _result(line: str) -> OracleResult:
    raw = json.loads(line)
    reencoded = raw.get("reencoded")
    return OracleResult(
        ok=bool(raw["ok"]),
        name=raw.get("name"),
        fields=raw.get("fields"),
        reencoded=bytes.fromhex(reencoded) if reencoded is not None else None,
        error=raw.get("error"),
    )


class GoOracle:
    """A running ``gometa-host -oracle``; use as a context manager."""

    def __init__(self, binary: Path | None = None) -> None:
        self._binary = binary or gometa_host()
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> GoOracle:
        self.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> None:
        if self._proc is None:
            self._proc = subprocess.Popen(
                [str(self._binary), "-oracle"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                bufsize=1 << 20,
            )

    def _pipes(self) -> subprocess.Popen[str]:
        if self._proc is None or self._proc.stdin is None or self._proc.stdout is None:
            raise RuntimeError("GoOracle is not started")
        return self._proc

    def decode(self, frame: bytes) -> OracleResult:
        """gometa's decode of one whole TCP frame, and its re-encoding."""
        return self.decode_many([frame])[0]

    def decode_many(self, frames: Iterable[bytes]) -> list[OracleResult]:
        """Batch form: all frames are written before any answer is read.

        Writes and reads share this thread, so answers are collected
        whenever the answers still owed could fill the return pipe (about
        64 KiB); otherwise both processes could block on full pipes.
        """
        proc = self._pipes()
        assert proc.stdin is not None and proc.stdout is not None
        results: list[OracleResult] = []
        pending = owed = 0
        for frame in frames:
            proc.stdin.write(frame.hex() + "\n")
            pending += 1
            owed += 4 * len(frame) + 1024  # hex twice (fields, reencoded) + JSON
            if owed >= _PIPE_BUDGET:
                proc.stdin.flush()
                results.extend(_result(proc.stdout.readline()) for _ in range(pending))
                pending = owed = 0
        proc.stdin.flush()
        results.extend(_result(proc.stdout.readline()) for _ in range(pending))
        return results

    def close(self) -> None:
        if self._proc is not None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None
