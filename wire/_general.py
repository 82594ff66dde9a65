"""The general proto2 body decoder: any field order, any legal oddity.

This path implements protobuf-go's proto2 semantics field by field (spec §2.1)
and records every non-canonical feature as a :class:`Finding`. The compiled
fast path (``_fast``) handles canonical bodies and falls back here for
everything else, including every error, so error reports always come from
this one place.
"""

from __future__ import annotations

from typing import Any

from wire import _findings as fk
from wire._combinators import (
    WIRETYPE_END_GROUP,
    WIRETYPE_FIXED32,
    WIRETYPE_FIXED64,
    WIRETYPE_LEN,
    WIRETYPE_START_GROUP,
    WIRETYPE_VARINT,
)
from wire._errors import DecodeError
from wire._findings import Finding
from wire._messages import PROTO_VERSION, Message
from wire._schema import Kind, MessageSpec
from wire._varint import UINT32_MAX, VarintError, is_minimal, read_varint

_ZERO: dict[Kind, object] = {
    Kind.UINT32: 0,
    Kind.UINT64: 0,
    Kind.BOOL: False,
    Kind.STRING: "",
    Kind.BYTES: b"",
}
"""What Go's generated getters return for an absent field."""

MAX_FIELD_NUMBER = (1 << 29) - 1
MAX_GROUP_DEPTH = 10_000
"""protobuf-go's default recursion limit, which bounds nested unknown groups."""


class _BodyReader:
    """Reads fields from one body, turning low-level faults into DecodeError."""

    def __init__(self, spec: MessageSpec, body: bytes, base: int) -> None:
        self.spec = spec
        self.body = body
        self.base = base

    def fail(self, reason: str, pos: int, path: str, detail: str = "") -> DecodeError:
        return DecodeError(
            reason, offset=self.base + pos, path=f"{self.spec.name}.{path}", detail=detail
        )

    def varint(self, pos: int, path: str) -> tuple[int, int]:
        try:
            return read_varint(self.body, pos)
        except VarintError as exc:
            raise self.fail(exc.reason, exc.offset, path) from None

    def key(self, pos: int) -> tuple[int, int, int]:
        """Read a field key; return (number, wire type, position after)."""
        key, after = self.varint(pos, "<key>")
        number, wire_type = key >> 3, key & 7
        if not 1 <= number <= MAX_FIELD_NUMBER:
            raise self.fail("invalid_field_number", pos, "<key>", f"field number {number}")
        return number, wire_type, after

    def value(self, pos: int, number: int, wire_type: int, path: str) -> tuple[Any, int]:
        """Read (or skip, for groups) one value; return (value, position after)."""
        body = self.body
        if wire_type == WIRETYPE_VARINT:
            return self.varint(pos, path)
        if wire_type == WIRETYPE_LEN:
            length, start = self.varint(pos, path)
            if length > len(body) - start:
                raise self.fail("truncated_field", pos, path, f"length {length} exceeds the body")
            return body[start : start + length], start + length
        if wire_type in (WIRETYPE_FIXED64, WIRETYPE_FIXED32):
            size = 8 if wire_type == WIRETYPE_FIXED64 else 4
            if pos + size > len(body):
                raise self.fail("truncated_field", pos, path, f"fixed{size * 8} value")
            return body[pos : pos + size], pos + size
        if wire_type == WIRETYPE_START_GROUP:
            return None, self.skip_group(pos, number, path)
        if wire_type == WIRETYPE_END_GROUP:
            raise self.fail("unexpected_end_group", pos, path)
        raise self.fail("invalid_wire_type", pos, path, f"wire type {wire_type}")

    def skip_group(self, pos: int, number: int, path: str) -> int:
        """Skip a (deprecated) group up to its matching end key, as protobuf-go does."""
        open_groups = [number]
        while open_groups:
            if len(open_groups) > MAX_GROUP_DEPTH:
                raise self.fail("group_too_deep", pos, path)
            if pos >= len(self.body):
                raise self.fail("truncated_group", pos, path)
            inner, wire_type, pos = self.key(pos)
            if wire_type == WIRETYPE_END_GROUP:
                if inner != open_groups[-1]:
                    raise self.fail("mismatched_end_group", pos, path)
                open_groups.pop()
            elif wire_type == WIRETYPE_START_GROUP:
                open_groups.append(inner)
            else:
                _, pos = self.value(pos, inner, wire_type, path)
        return pos


def decode_body_general(
    spec: MessageSpec, body: bytes, base: int = 0, *, collect: bool = False
) -> tuple[Message, list[Finding]]:
    """Decode ``body`` as ``spec``; with ``collect``, list non-canonical findings.

    ``base`` is the body's offset in the frame, so errors point into the frame.
    """
    reader = _BodyReader(spec, body, base)
    findings: list[Finding] = []
    values: dict[str, Any] = {}
    last_number = 0
    seen: set[int] = set()
    pos = 0
    end = len(body)
    while pos < end:
        field_pos = pos
        number, wire_type, pos = reader.key(pos)
        field = spec.field(number)
        path = field.attr if field is not None else f"<field {number}>"
        raw, after = reader.value(pos, number, wire_type, path)
        if field is None or field.kind.wire_type != wire_type:
            if collect:
                kind = fk.UNKNOWN_FIELD if field is None else fk.WRONG_WIRE_TYPE
                findings.append(
                    Finding(
                        kind=kind,
                        offset=base + field_pos,
                        path=f"{spec.name}.{path}",
                        detail=f"field {number}, wire type {wire_type}",
                    )
                )
            pos = after
            continue
        if collect:
            _check_order(spec, field.attr, number, last_number, base + field_pos, findings, seen)
            seen.add(number)
            if wire_type == WIRETYPE_VARINT and not is_minimal(raw, after - pos):
                findings.append(
                    Finding(
                        kind=fk.NON_MINIMAL_VARINT,
                        offset=base + pos,
                        path=f"{spec.name}.{field.attr}",
                        detail=f"{after - pos} bytes for {raw}",
                    )
                )
            elif wire_type == WIRETYPE_LEN and not is_minimal(len(raw), after - pos - len(raw)):
                findings.append(
                    Finding(
                        kind=fk.NON_MINIMAL_VARINT,
                        offset=base + pos,
                        path=f"{spec.name}.{field.attr}",
                        detail="length prefix",
                    )
                )
        last_number = max(last_number, number)
        values[field.attr] = _convert(
            field.kind, raw, base + pos, spec, field.attr, findings, collect
        )
        pos = after
    for field in spec.fields:
        if field.attr in values:
            continue
        if field.required:
            # gometa's decoder does not enforce proto2 "required" (checked on
            # the live node): an absent field reads as Go's zero value.
            values[field.attr] = _ZERO[field.kind]
            if collect:
                findings.append(
                    Finding(
                        kind=fk.MISSING_REQUIRED,
                        offset=base + end,
                        path=f"{spec.name}.{field.attr}",
                        detail=f"required field {field.number} absent; read as zero",
                    )
                )
            continue
        values[field.attr] = None
        if collect and field.attr == "error":
            findings.append(
                Finding(
                    kind=fk.MISSING_OPTIONAL_ERROR,
                    offset=base + end,
                    path=f"{spec.name}.error",
                    detail="Go always sends error, even empty",
                )
            )
    if collect and values["version"] != PROTO_VERSION:
        findings.append(
            Finding(
                kind=fk.UNEXPECTED_VERSION,
                offset=base,
                path=f"{spec.name}.version",
                detail=f"version {values['version']}",
            )
        )
    return spec.cls(**values), findings


def _check_order(
    spec: MessageSpec,
    attr: str,
    number: int,
    last: int,
    offset: int,
    findings: list[Finding],
    seen: set[int],
) -> None:
    if number in seen:
        findings.append(Finding(kind=fk.DUPLICATE_FIELD, offset=offset, path=f"{spec.name}.{attr}"))
    elif number < last:
        findings.append(
            Finding(
                kind=fk.FIELD_ORDER,
                offset=offset,
                path=f"{spec.name}.{attr}",
                detail=f"field {number} after field {last}",
            )
        )


def _convert(
    kind: Kind,
    raw: Any,
    offset: int,
    spec: MessageSpec,
    attr: str,
    findings: list[Finding],
    collect: bool,
) -> Any:
    """Turn a raw wire value into the field's Python value, as Go would."""
    if kind is Kind.UINT64:
        return raw
    if kind is Kind.UINT32:
        if raw > UINT32_MAX and collect:
            findings.append(
                Finding(
                    kind=fk.UINT32_TRUNCATED,
                    offset=offset,
                    path=f"{spec.name}.{attr}",
                    detail=f"{raw} kept as {raw & UINT32_MAX}",
                )
            )
        return raw & UINT32_MAX
    if kind is Kind.BOOL:
        if raw > 1 and collect:
            findings.append(
                Finding(
                    kind=fk.NON_CANONICAL_BOOL,
                    offset=offset,
                    path=f"{spec.name}.{attr}",
                    detail=f"varint {raw}",
                )
            )
        return raw != 0
    if kind is Kind.STRING:
        if collect:
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                findings.append(
                    Finding(
                        kind=fk.INVALID_UTF8,
                        offset=offset,
                        path=f"{spec.name}.{attr}",
                        detail=str(exc.reason),
                    )
                )
        return raw.decode("utf-8", "surrogateescape")
    return bytes(raw)
