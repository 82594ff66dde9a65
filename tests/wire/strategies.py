"""Hypothesis strategies for gometa messages, driven by wire's own schema.

Values cover each field's whole range (uint64 up to 2**64-1, strings with
invalid UTF-8 via surrogateescape), so differential tests reach the edges.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

import wire
from wire import craft
from wire._schema import SPEC_BY_CLASS, FieldSpec, Kind

raw_text_bytes = st.binary(max_size=40)
utf8_text = st.text(max_size=30)


def _field_values(field: FieldSpec, valid_utf8: bool) -> st.SearchStrategy[Any]:
    if field.kind is Kind.UINT32:
        return st.one_of(st.integers(0, 3), st.integers(0, 0xFFFFFFFF))
    if field.kind is Kind.UINT64:
        return st.one_of(st.integers(0, 3), st.integers(0, (1 << 64) - 1))
    if field.kind is Kind.BOOL:
        return st.booleans()
    if field.kind is Kind.STRING:
        if valid_utf8:
            return utf8_text
        return raw_text_bytes.map(lambda b: b.decode("utf-8", "surrogateescape"))
    return st.binary(max_size=40)


def messages_of(
    cls: type[wire.Message], *, valid_utf8: bool = False
) -> st.SearchStrategy[wire.Message]:
    """Random instances of one message class; optional fields sometimes absent."""
    spec = SPEC_BY_CLASS[cls]
    kwargs: dict[str, st.SearchStrategy[Any]] = {}
    for field in spec.fields:
        values = _field_values(field, valid_utf8)
        kwargs[field.attr] = values if field.required else st.none() | values
    return st.builds(cls, **kwargs)


def messages(*, valid_utf8: bool = False) -> st.SearchStrategy[wire.Message]:
    """Random instances of all 13 message classes."""
    return st.one_of([messages_of(cls, valid_utf8=valid_utf8) for cls in wire.MESSAGE_CLASSES])


@st.composite
def noncanonical_frames(draw: st.DrawFn) -> bytes:
    """A frame Go accepts or rejects for body reasons: fields edited at random."""
    msg = draw(messages())
    fields = craft.fields_of(msg)
    edits = draw(
        st.lists(
            st.sampled_from(["shuffle", "dup", "unknown", "drop", "wide", "retype", "big"]),
            max_size=4,
        )
    )
    for edit in edits:
        if edit == "shuffle":
            fields = draw(st.permutations(fields))
        elif edit == "dup" and fields:
            fields = [*fields, draw(st.sampled_from(fields))]
        elif edit == "unknown":
            number = draw(st.integers(1, 40))
            wire_type = draw(st.sampled_from([0, 1, 2, 5]))
            value: int | bytes = (
                draw(st.integers(0, (1 << 64) - 1))
                if wire_type == 0
                else draw(
                    st.binary(
                        min_size={1: 8, 5: 4}.get(wire_type, 0),
                        max_size={1: 8, 5: 4}.get(wire_type, 10),
                    )
                )
            )
            fields = [*fields, craft.RawField(number, wire_type, value)]
        elif edit == "drop" and fields:
            del fields[draw(st.integers(0, len(fields) - 1))]
        elif edit == "wide" and fields:
            i = draw(st.integers(0, len(fields) - 1))
            f = fields[i]
            if isinstance(f.value, int):
                need = len(craft.varint(f.value))
                fields[i] = craft.RawField(
                    f.number, f.wire_type, f.value, varint_width=draw(st.integers(need, 10))
                )
        elif edit == "retype" and fields:
            i = draw(st.integers(0, len(fields) - 1))
            f = fields[i]
            fields[i] = (
                craft.RawField(f.number, 2, b"\x01")
                if f.wire_type == 0
                else craft.RawField(f.number, 0, 1)
            )
        elif edit == "big" and fields:
            i = draw(st.integers(0, len(fields) - 1))
            f = fields[i]
            if f.wire_type == 0:
                fields[i] = craft.RawField(f.number, 0, draw(st.integers(0, (1 << 64) - 1)))
    return craft.frame(wire.message_name(msg), craft.body(fields))
