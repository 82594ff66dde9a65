"""Errors raised by the codec.

Every malformed input surfaces as :class:`DecodeError`; nothing else may
escape a decoder. The ``reason`` strings are machine-readable and stable, so
the conformance suite and node drivers can act on them without parsing text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wire._findings import Finding
    from wire._messages import Message


class WireError(Exception):
    """Base of every error the codec raises."""


class EncodeError(WireError):
    """A message cannot be encoded as Go would encode it (out-of-range value, None)."""

    def __init__(self, reason: str, path: str, detail: str) -> None:
        super().__init__(f"{reason} at {path}: {detail}")
        self.reason = reason
        self.path = path
        self.detail = detail


class DecodeError(WireError):
    """Malformed input: says what was wrong (``reason``), where (``offset``, ``path``).

    ``offset`` is a byte offset into the frame (or datagram) given to the
    decoder; ``path`` names the field, such as ``frame.name_len`` or
    ``Vote.cnd_id``. ``decoded_before`` holds the messages a stream decoder
    completed before the bad frame, so a caller can still process them.
    """

    def __init__(
        self,
        reason: str,
        *,
        offset: int,
        path: str,
        detail: str = "",
        raw: bytes = b"",
        decoded_before: Sequence[Message] = (),
    ) -> None:
        text = f"{reason} at offset {offset} ({path})"
        if detail:
            text += f": {detail}"
        super().__init__(text)
        self.reason = reason
        self.offset = offset
        self.path = path
        self.detail = detail
        self.raw = raw
        self.decoded_before: tuple[Message, ...] = tuple(decoded_before)


class NonCanonicalError(DecodeError):
    """Strict mode: the input is valid for Go but not what Go would send."""

    def __init__(self, findings: Sequence[Finding], *, raw: bytes = b"") -> None:
        first = findings[0]
        super().__init__(
            "non_canonical",
            offset=first.offset,
            path=first.path,
            detail="; ".join(f.describe() for f in findings),
            raw=raw,
        )
        self.findings: tuple[Finding, ...] = tuple(findings)
