"""The compiled canonical path, generated from ``_schema``'s field tables.

construct's ``compile()`` turns a declaration into straight-line Python; this
module does the same for gometa's proto2 bodies, specialised to the one byte
layout Go emits (fields in number order, one-byte tags). A body that does not
match that layout exactly makes the generated decoder return ``None`` and the
caller falls back to the general decoder, which reports any error. The
generated source can be read with :func:`source_for`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from wire._errors import EncodeError
from wire._messages import Message
from wire._schema import SPECS, FrameHeader, Kind, MessageSpec
from wire._varint import VarintError, encode_varint, read_varint


def _header_format() -> struct.Struct:
    """The struct format of the construct-declared header (two Int64ub)."""
    formats = [sub.subcon.fmtstr for sub in FrameHeader.subcons]
    return struct.Struct(formats[0][0] + "".join(f[1:] for f in formats))


HEADER = _header_format()

TRUE, FALSE = b"\x01", b"\x00"
_RANGE = {Kind.UINT32: 0xFFFFFFFF, Kind.UINT64: (1 << 64) - 1}


def _bad(path: str, value: Any, why: str) -> EncodeError:
    return EncodeError("unencodable", path, f"{why}: {value!r}")


def _gen_decoder(spec: MessageSpec) -> list[str]:
    lines = [f"def decode_{spec.name}(b):", "    L = len(b)", "    p = 0", "    try:"]
    for f in spec.fields:
        (tag,) = f.tag
        var = f"v_{f.attr}"
        body = [
            f"if b[p] != {tag}: return None",
            "p += 1",
            "x = b[p]",
            "if x < 128: p += 1",
            "else: x, p = rv(b, p)",
        ]
        if f.kind is Kind.UINT32:
            body.append("if x > 0xFFFFFFFF: return None")
        if f.kind is Kind.BOOL:
            body.append("if x > 1: return None")
            body.append(f"{var} = x == 1")
        elif f.kind in (Kind.STRING, Kind.BYTES):
            body += ["e = p + x", "if e > L: return None"]
            conv = ".decode('utf-8', 'surrogateescape')" if f.kind is Kind.STRING else ""
            body += [f"{var} = b[p:e]{conv}", "p = e"]
        else:
            body.append(f"{var} = x")
        if f.required:
            lines += [f"        {line}" for line in body]
        else:
            lines.append(f"        if p < L and b[p] == {tag}:")
            lines += [f"            {line}" for line in body[1:]]
            lines += ["        else:", f"            {var} = None"]
    lines += [
        "    except (IndexError, VarintError):",
        "        return None",
        "    if p != L: return None",
        # Fill the slots directly, as copy.copy does: the values are already
        # checked, and the frozen dataclass __init__ would double the cost.
        "    o = new(cls)",
        *(f"    set_{f.attr}(o, v_{f.attr})" for f in spec.fields),
        "    return o",
    ]
    return lines


def _gen_encoder(spec: MessageSpec) -> list[str]:
    name = spec.name.encode("ascii")
    lines = [f"def encode_{spec.name}(m):", "    parts = []", "    add = parts.append"]
    for f in spec.fields:
        path = f"{spec.name}.{f.attr}"
        tag = f.tag
        body: list[str] = []
        if f.kind in _RANGE:
            body += [
                "if x.__class__ is not int and (x.__class__ is bool or not isinstance(x, int)):",
                f"    raise bad({path!r}, x, 'not an int')",
                "if x < 0 or x > " + str(_RANGE[f.kind]) + ":",
                f"    raise bad({path!r}, x, 'not a {f.kind.value}')",
                f"add(T{tag[0]}[x] if x < 128 else {tag!r} + ev(x))",
            ]
        elif f.kind is Kind.BOOL:
            body += [
                "if x.__class__ is not bool:",
                f"    raise bad({path!r}, x, 'not a bool')",
                f"add({tag + TRUE!r} if x else {tag + FALSE!r})",
            ]
        else:
            if f.kind is Kind.STRING:
                body += [
                    "if x.__class__ is not str:",
                    f"    raise bad({path!r}, x, 'not a str')",
                    "try:",
                    "    x = x.encode('utf-8', 'surrogateescape')",
                    "except UnicodeEncodeError:",
                    f"    raise bad({path!r}, x, 'lone surrogate') from None",
                ]
            else:
                body += [
                    "if x.__class__ is not bytes:",
                    "    if not isinstance(x, (bytes, bytearray, memoryview)):",
                    f"        raise bad({path!r}, x, 'not bytes')",
                    "    x = bytes(x)",
                ]
            body += [
                "n = len(x)",
                f"add(T{tag[0]}[n] if n < 128 else {tag!r} + ev(n))",
                "add(x)",
            ]
        lines.append(f"    x = m.{f.attr}")
        if f.required:
            lines += [f"    {line}" for line in body]
        else:
            lines.append("    if x is not None:")
            lines += [f"        {line}" for line in body]
    lines += [
        "    body = b''.join(parts)",
        "    return body",
        "",
        f"def frame_{spec.name}(m):",
        f"    body = encode_{spec.name}(m)",
        f"    return pack({8 + len(name)} + len(body), {len(name)}) + {name!r} + body",
    ]
    return lines


def _tag_table(tag: bytes) -> tuple[bytes, ...]:
    """``tag`` followed by each one-byte varint: one append per small field."""
    return tuple(tag + bytes((i,)) for i in range(128))


def _compile(spec: MessageSpec) -> tuple[str, dict[str, Any]]:
    source = "\n".join([*_gen_decoder(spec), "", *_gen_encoder(spec), ""])
    namespace: dict[str, Any] = {
        **{f"T{f.tag[0]}": _tag_table(f.tag) for f in spec.fields},
        **{f"set_{f.attr}": getattr(spec.cls, f.attr).__set__ for f in spec.fields},
        "new": object.__new__,
        "cls": spec.cls,
        "rv": read_varint,
        "ev": encode_varint,
        "bad": _bad,
        "pack": HEADER.pack,
        "VarintError": VarintError,
    }
    exec(compile(source, f"<wire._fast {spec.name}>", "exec"), namespace)
    return source, namespace


_SOURCES: dict[str, str] = {}
BODY_DECODERS: dict[str, Callable[[bytes], Message | None]] = {}
BODY_ENCODERS: dict[type[Message], Callable[[Message], bytes]] = {}
FRAME_ENCODERS: dict[type[Message], Callable[[Message], bytes]] = {}

for _spec in SPECS.values():
    _source, _ns = _compile(_spec)
    _SOURCES[_spec.name] = _source
    BODY_DECODERS[_spec.name] = _ns[f"decode_{_spec.name}"]
    BODY_ENCODERS[_spec.cls] = _ns[f"encode_{_spec.name}"]
    FRAME_ENCODERS[_spec.cls] = _ns[f"frame_{_spec.name}"]


def source_for(name: str) -> str:
    """The generated source for one message (for review and debugging)."""
    return _SOURCES[name]


def generated_sources() -> Mapping[str, str]:
    """All generated sources by message name."""
    return dict(_SOURCES)
