"""The ``--state`` file: persisted state a node starts from (harness contract).

Same JSON as the Go host's ``-state`` (harness/gometa_host/README.md):
accepted/current epoch, optional last logged/committed txids, log entries
(``content`` text or ``content_hex``, ``committed`` flag) and extra ``data``.
It is applied only to a fresh store, so a restart keeps what the node did.
Errors name the entry that is wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from refnode.core.effects import PersistCommit
from refnode.core.store import TRANSACTIONAL, LogRecord, PersistentState


class StateFileError(ValueError):
    """The state file is unusable; the message names the entry."""


def _uint(obj: dict[str, Any], key: str, where: str, bits: int) -> int:
    value = obj.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 1 << bits:
        raise StateFileError(f"{where}.{key}: expected a uint{bits}, got {value!r}")
    return value


def _content(entry: dict[str, Any], where: str) -> bytes:
    try:
        if entry.get("content_hex") is not None:
            return bytes.fromhex(str(entry["content_hex"]))
        return str(entry.get("content", "")).encode()
    except ValueError as exc:
        raise StateFileError(f"{where}.content_hex: {exc}") from None


def load_state_file(path: Path) -> PersistentState:
    """The state described by ``path``, committed entries applied in txid order."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise StateFileError(f"{path}: {exc}") from None
    if not isinstance(doc, dict):
        raise StateFileError(f"{path}: expected a JSON object")
    state = PersistentState(
        accepted_epoch=_uint(doc, "accepted_epoch", "state", 32),
        current_epoch=_uint(doc, "current_epoch", "state", 32),
    )
    entries = doc.get("log") or []
    if not isinstance(entries, list):
        raise StateFileError("state.log: expected a list")
    records: list[tuple[LogRecord, bool]] = []
    for i, entry in enumerate(entries):
        where = f"state.log[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("key", ""), str):
            raise StateFileError(f"{where}: expected an object with a string key")
        record = LogRecord(
            txid=_uint(entry, "txid", where, 64),
            op_code=_uint(entry, "op_code", where, 32),
            key=entry.get("key", ""),
            content=_content(entry, where),
        )
        records.append((record, bool(entry.get("committed"))))
    for record, committed in sorted(records, key=lambda rc: rc[0].txid):
        state.log[record.txid] = record
        if record.op_code in TRANSACTIONAL:
            state.last_logged_txid = max(state.last_logged_txid, record.txid)
        if committed:
            last = state.last_committed_txid
            if record.op_code in TRANSACTIONAL:
                last = max(last, record.txid)
            state.apply(
                PersistCommit(
                    txid=record.txid,
                    op_code=record.op_code,
                    key=record.key,
                    content=record.content,
                    last_committed_txid=last,
                )
            )
    data = doc.get("data") or {}
    if not isinstance(data, dict):
        raise StateFileError("state.data: expected an object")
    for key, value in data.items():
        state.data[str(key)] = str(value).encode()
    if "last_logged_txid" in doc:
        state.last_logged_txid = _uint(doc, "last_logged_txid", "state", 64)
    if "last_committed_txid" in doc:
        state.last_committed_txid = _uint(doc, "last_committed_txid", "state", 64)
    return state
