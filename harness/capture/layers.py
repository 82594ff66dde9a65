"""scapy layers for gometa frames, generated from ``wire``'s schema (style §6).

``GometaFrame`` is the 16-byte header plus name; its payload is one of the 13
message layers (picked by ``name``). A message layer's ``fields_desc`` comes
from ``wire._schema.SPECS`` and holds decoded values (int, bool, str, bytes);
its ``do_dissect`` and ``self_build`` delegate to ``wire.decode_body`` and
``wire.encode_body``, so the bytes are exactly ``wire``'s. Only UDP election
ports are bound: TCP needs reassembly first (see ``reassembly``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from scapy.fields import Field, IntField, LongField, StrLenField
from scapy.layers.inet import UDP
from scapy.packet import Packet, bind_layers

import wire
from wire._schema import SPECS, Kind, MessageSpec

ELECTION_PORTS = (32010, 32020, 32030)
"""The capture's UDP election ports (base 32000)."""


class GometaFrame(Packet):
    """total_len (8 BE), name_len (8 BE), ASCII name; the body is the payload."""

    name = "GometaFrame"
    fields_desc = [  # noqa: RUF012 (scapy's layout)
        LongField("total_len", None),  # type: ignore[arg-type]
        LongField("name_len", None),  # type: ignore[arg-type]
        StrLenField("msg_name", b"", length_from=lambda pkt: pkt.name_len),
    ]

    def post_build(self, pkt: bytes, pay: bytes) -> bytes:
        name_len = len(self.msg_name) if self.name_len is None else self.name_len
        if self.name_len is None:
            pkt = pkt[:8] + name_len.to_bytes(8, "big") + pkt[16:]
        if self.total_len is None:
            pkt = (len(pkt) + len(pay) - 8).to_bytes(8, "big") + pkt[8:]
        return pkt + pay

    def extract_padding(self, s: bytes) -> tuple[bytes, bytes]:
        body_len = int(self.total_len) - 8 - int(self.name_len)
        if body_len < 0:
            return s, b""
        return s[:body_len], s[body_len:]


def _default(spec: MessageSpec, attr: str) -> object:
    for f in dataclasses.fields(spec.cls):
        if f.name == attr and f.default is not dataclasses.MISSING:
            return f.default
    kind = next(f.kind for f in spec.fields if f.attr == attr)
    return {Kind.UINT32: 0, Kind.UINT64: 0, Kind.BOOL: False, Kind.STRING: "", Kind.BYTES: b""}[
        kind
    ]


def _field(spec: MessageSpec, attr: str, kind: Kind) -> Any:
    default = _default(spec, attr)
    if kind is Kind.UINT32:
        return IntField(attr, cast(int, default))
    if kind is Kind.UINT64:
        return LongField(attr, cast(int, default))
    return Field(attr, default)  # bool/str/bytes: the decoded value as is


class GometaMessage(Packet):
    """Base of the generated message layers; wire does the bytes."""

    gometa_spec: MessageSpec

    def do_dissect(self, s: bytes) -> bytes:
        msg = wire.decode_body(self.gometa_spec.name, s)
        for f in self.gometa_spec.fields:
            self.fields[f.attr] = getattr(msg, f.attr)
        return b""

    def self_build(self) -> bytes:
        return wire.encode_body(self.to_message())

    def to_message(self) -> wire.Message:
        """The ``wire`` message this layer holds."""
        values = {f.attr: self.getfieldval(f.attr) for f in self.gometa_spec.fields}
        return self.gometa_spec.cls(**values)


def _make_layer(spec: MessageSpec) -> type[GometaMessage]:
    attrs = {
        "name": spec.name,
        "gometa_spec": spec,
        "fields_desc": [_field(spec, f.attr, f.kind) for f in spec.fields],
        "__doc__": f"gometa {spec.name}, generated from wire's schema.",
        "__module__": __name__,
    }
    return type(spec.name, (GometaMessage,), attrs)


LAYERS: dict[str, type[GometaMessage]] = {name: _make_layer(s) for name, s in SPECS.items()}
"""Message name → layer class."""


def layer_for(msg: wire.Message) -> GometaMessage:
    """The layer holding ``msg``."""
    cls = LAYERS[wire.message_name(msg)]
    spec = cls.gometa_spec
    return cls(**{f.attr: getattr(msg, f.attr) for f in spec.fields})


for _name, _cls in LAYERS.items():
    bind_layers(GometaFrame, _cls, msg_name=_name.encode("ascii"))
for _port in ELECTION_PORTS:
    bind_layers(UDP, GometaFrame, dport=_port)
    bind_layers(UDP, GometaFrame, sport=_port)
