"""Non-canonical findings: input Go accepts but would never send itself.

The default decoder accepts these with Go's result; ``inspect`` lists them and
strict mode rejects them, which is how the conformance suite tells a node that
is merely lenient from one that is sloppy on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

FIELD_ORDER = "field_order"
DUPLICATE_FIELD = "duplicate_field"
NON_MINIMAL_VARINT = "non_minimal_varint"
UNKNOWN_FIELD = "unknown_field"
WRONG_WIRE_TYPE = "wrong_wire_type"
UINT32_TRUNCATED = "uint32_truncated"
NON_CANONICAL_BOOL = "non_canonical_bool"
INVALID_UTF8 = "invalid_utf8"
UNEXPECTED_VERSION = "unexpected_version"
MISSING_REQUIRED = "missing_required"
MISSING_OPTIONAL_ERROR = "missing_optional_error"
DATAGRAM_TOTAL_LEN_MISMATCH = "datagram_total_len_mismatch"
DATAGRAM_TRUNCATED = "datagram_truncated"


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One non-canonical feature of an accepted input."""

    kind: str
    offset: int
    path: str
    detail: str = ""

    def describe(self) -> str:
        """One line for logs and error texts."""
        text = f"{self.kind} at {self.offset} ({self.path})"
        return f"{text}: {self.detail}" if self.detail else text
