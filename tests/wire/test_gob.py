"""wire.gob: the bytes of encoding/gob's own documentation, round trips, and fuzz.

The byte literals come from the "Encoding Details" section of the encoding/gob
package documentation (doc.go); the Go host's ``-client`` in
tests/wire/test_netrpc.py checks the same code against real Go at run time.
Whatever bytes arrive, the decoder returns values or raises ``GobError``
(house style §9); any other exception is a bug.
"""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wire.gob import (
    BOOL,
    BYTES,
    FLOAT,
    INT,
    MAX_DEPTH,
    STRING,
    UINT,
    GobDecoder,
    GobEncoder,
    GobError,
    StructType,
    encode_bytes,
    encode_int,
    encode_struct,
    encode_uint,
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
U64 = 2**64 - 1

POINT = StructType(65, "Point", (("X", INT), ("Y", INT)))
POINT_DEFINITION = bytes.fromhex(
    "03"  # wireType field 2 (delta 3): StructT
    "01"  # StructT field 0: CommonType
    "01 05 50 6f 69 6e 74"  # CommonType.Name = "Point"
    "01 ff 82"  # CommonType.Id = 65
    "00"  # end of CommonType
    "01 02"  # StructT field 1: Field, a slice of 2 fieldTypes
    "01 01 58 01 04 00"  # {Name: "X", Id: 2 (int)}
    "01 01 59 01 04 00"  # {Name: "Y", Id: 2 (int)}
    "00"  # end of StructT
    "00"  # end of wireType
)
POINT_STREAM = bytes.fromhex(
    "1f ff 81"  # message length 31, type id -65: a definition follows
    + POINT_DEFINITION.hex()
    + "07 ff 82"  # message length 7, type id 65: a Point value
    "01 2c"  # field delta 1 (X) = 22
    "01 42"  # field delta 1 (Y) = 33
    "00"  # end of struct
)


# ---------------------------------------------------------------- documented bytes


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, "00"), (7, "07"), (127, "7f"), (128, "ff 80"), (256, "fe 01 00"), (U64, "f8" + "ff" * 8)],
)
def test_encode_uint_matches_gob_docs(value: int, encoded: str) -> None:
    """doc.go: "7 is transmitted as (07) and 256 as (FE 01 00)"."""
    assert encode_uint(value) == bytes.fromhex(encoded)


@pytest.mark.parametrize(
    ("value", "encoded"), [(-129, "fe 01 01"), (65, "ff 82"), (-65, "ff 81"), (-1, "01"), (1, "02")]
)
def test_encode_int_matches_gob_docs(value: int, encoded: str) -> None:
    """doc.go: -129 is (FE 01 01); type ids 65 and -65 open the Point example as FF 82/FF 81."""
    assert encode_int(value) == bytes.fromhex(encoded)


def test_StructType_definition_matches_gob_docs_point() -> None:
    """doc.go's Point{X, Y int} type definition, byte for byte."""
    assert POINT.definition() == POINT_DEFINITION


def test_GobEncoder_stream_matches_gob_docs_point() -> None:
    """doc.go: the whole stream for Point{22, 33}, definition first, then the value."""
    assert GobEncoder().encode(POINT, {"X": 22, "Y": 33}) == POINT_STREAM


def test_GobEncoder_sends_each_definition_once() -> None:
    enc = GobEncoder()
    first = enc.encode(POINT, {"X": 22, "Y": 33})
    assert enc.encode(POINT, {"X": 22, "Y": 33}) == first[-8:]


def test_GobDecoder_reads_gob_docs_point() -> None:
    dec = GobDecoder()
    assert dec.feed(POINT_STREAM) == [(65, {"X": 22, "Y": 33})]
    assert dec.types[65][0] == "StructT"
    assert dec.feed(POINT_STREAM[-8:]) == [(65, {"X": 22, "Y": 33})]


def test_GobDecoder_reads_gob_docs_float() -> None:
    """doc.go: 17.0 is the byte-reversed uint 0x4031, sent as (FE 31 40).

    A top-level non-struct value: type id 4 (float), the singleton 0 delta, the value.
    """
    payload = encode_int(FLOAT) + b"\x00" + bytes.fromhex("fe 31 40")
    assert GobDecoder().decode_message(payload) == (FLOAT, 17.0)


@pytest.mark.parametrize(
    ("type_id", "data", "value"),
    [
        (BOOL, b"\x01", True),
        (INT, b"\x01", -1),
        (UINT, b"\xfe\x01\x00", 256),
        (BYTES, b"\x03abc", b"abc"),
        (STRING, b"\x02\xc3\xa9", "é"),
    ],
)
def test_GobDecoder_reads_predefined_singletons(type_id: int, data: bytes, value: object) -> None:
    assert GobDecoder().decode_message(encode_int(type_id) + b"\x00" + data) == (type_id, value)


# ---------------------------------------------------------------- round trips

REQUEST = StructType(
    66, "RequestMsg", (("OpCode", STRING), ("Key", STRING), ("Value", BYTES), ("N", UINT))
)


@FUZZ
@given(
    op=st.text(max_size=12),
    key=st.text(max_size=30),
    value=st.binary(max_size=300),
    n=st.integers(0, U64),
    i=st.integers(-(2**63), 2**63 - 1),
    chunk=st.integers(1, 64),
)
def test_GobEncoder_GobDecoder_round_trip(
    op: str, key: str, value: bytes, n: int, i: int, chunk: int
) -> None:
    """Any struct value decodes to itself (zero fields absent), fed whole or in chunks."""
    withint = StructType(67, "I", (("I", INT), ("B", BOOL)))
    enc = GobEncoder()
    stream = enc.encode(REQUEST, {"OpCode": op, "Key": key, "Value": value, "N": n})
    stream += enc.encode(withint, {"I": i, "B": i % 2 == 1})
    stream += enc.encode(REQUEST, {"Key": key})
    expected_request = {
        name: v for name, v in (("OpCode", op), ("Key", key), ("Value", value), ("N", n)) if v
    }
    expected = [
        (66, expected_request),
        (67, {name: v for name, v in (("I", i), ("B", i % 2 == 1)) if v}),
        (66, {"Key": key} if key else {}),
    ]
    assert GobDecoder().feed(stream) == expected
    dec, got = GobDecoder(), []
    for start in range(0, len(stream), chunk):
        got += dec.feed(stream[start : start + chunk])
    assert got == expected and not dec.buffer


def test_encode_uint_refuses_negative() -> None:
    with pytest.raises(GobError, match="negative"):
        encode_uint(-1)


def test_StructType_value_refuses_unknown_field_type() -> None:
    with pytest.raises(GobError, match="cannot encode field F"):
        StructType(65, "S", (("F", FLOAT),)).value({"F": 1.5})


# ---------------------------------------------------------------- bad input


def _message(type_id: int, data: bytes) -> bytes:
    payload = encode_int(type_id) + data
    return encode_uint(len(payload)) + payload


def test_GobDecoder_self_referencing_type_stops_at_max_depth() -> None:
    """A struct whose only field is itself: nesting ends with GobError, not RecursionError."""
    nested = StructType(65, "R", (("R", 65),))
    stream = _message(-65, nested.definition()) + _message(65, b"\x01" * 5000)
    with pytest.raises(GobError, match=f"deeper than {MAX_DEPTH}"):
        GobDecoder().feed(stream)


def test_GobDecoder_definition_without_field_names_is_not_a_crash() -> None:
    """Zero values are omitted in definitions too: a field with no Name, no Id."""
    field_type = encode_struct([])  # fieldType{} : Name "" and Id 0 both omitted
    common = encode_struct([(0, encode_bytes(b"S")), (1, encode_int(65))])
    definition = encode_struct([(2, encode_struct([(0, common), (1, b"\x01" + field_type)]))])
    dec = GobDecoder()
    dec.feed(_message(-65, definition))
    with pytest.raises(GobError, match="unsupported gob type 0"):
        dec.feed(_message(65, b"\x01\x02\x00"))


@pytest.mark.parametrize(
    ("stream", "reason"),
    [
        (b"\xf0" + b"\x00" * 16, "message length of 16 bytes"),
        (b"\xfc\x7f\xff\xff\xff", "over the"),
        (b"\x03\xff\x82\x00", "unsupported gob type 65"),
        (b"\x03\x0e\x00\x01", "unsupported gob type 7"),
        (b"\x03\x0c\x00\x05", "truncated"),
        (b"\x03\xff\x81\x19", "unknown wireType field"),
        (b"\x02\x08\x01", "bad singleton prefix"),
    ],
)
def test_GobDecoder_bad_streams_raise_GobError(stream: bytes, reason: str) -> None:
    with pytest.raises(GobError, match=reason):
        GobDecoder().feed(stream)


def _damage(data: bytes, how: st.DataObject) -> bytes:
    out = bytearray(data)
    for _ in range(how.draw(st.integers(1, 4))):
        if not out:
            break
        op = how.draw(st.sampled_from(["flip", "cut", "insert", "byte"]))
        at = how.draw(st.integers(0, len(out) - 1))
        if op == "flip":
            out[at] ^= 1 << how.draw(st.integers(0, 7))
        elif op == "cut":
            del out[at : at + how.draw(st.integers(1, 8))]
        elif op == "insert":
            out[at:at] = how.draw(st.binary(min_size=1, max_size=8))
        else:
            out[at] = how.draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xF8, 0xFF]))
    return bytes(out)


def _decode_all(stream: bytes, chunk: int) -> None:
    dec = GobDecoder()
    try:
        for start in range(0, len(stream), chunk):
            dec.feed(stream[start : start + chunk])
    except GobError:
        pass


@FUZZ
@given(how=st.data(), chunk=st.integers(1, 40))
def test_GobDecoder_damaged_streams_raise_only_GobError(how: st.DataObject, chunk: int) -> None:
    """Real streams, damaged: values or GobError, nothing else (house style §9)."""
    enc = GobEncoder()
    stream = POINT_STREAM + enc.encode(
        REQUEST, {"OpCode": "Set", "Key": "k", "Value": b"v" * 20, "N": 300}
    )
    stream += _message(-68, StructType(68, "L", (("L", 69),)).definition())
    slice_def = encode_struct(
        [(1, encode_struct([(0, encode_struct([(1, encode_int(69))])), (1, encode_int(BYTES))]))]
    )
    stream += _message(-69, slice_def) + _message(68, b"\x01\x02\x01a\x01b\x00")
    stream += _message(FLOAT, b"\x00\xfe\x31\x40")
    _decode_all(_damage(stream, how), chunk)


@FUZZ
@given(stream=st.binary(max_size=200), chunk=st.integers(1, 40))
def test_GobDecoder_random_bytes_raise_only_GobError(stream: bytes, chunk: int) -> None:
    _decode_all(stream, chunk)


def test_GobDecoder_slice_of_bytes() -> None:
    """A []([]byte) field through a SliceT definition, as net/rpc peers may send."""
    slice_def = encode_struct(
        [(1, encode_struct([(0, encode_struct([(1, encode_int(69))])), (1, encode_int(BYTES))]))]
    )
    stream = _message(-68, StructType(68, "L", (("L", 69),)).definition())
    stream += _message(-69, slice_def) + _message(68, b"\x01\x02\x01a\x01b\x00")
    assert GobDecoder().feed(stream) == [(68, {"L": [b"a", b"b"]})]


def test_GobDecoder_reads_negative_float() -> None:
    """The reversed-bytes rule for a value other than the docs' 17.0."""
    raw = struct.pack(">d", -2.5)[::-1]
    payload = encode_int(FLOAT) + b"\x00" + encode_uint(int.from_bytes(raw, "big"))
    assert GobDecoder().decode_message(payload) == (FLOAT, -2.5)


TYPE_IDS = st.sampled_from([0, BOOL, INT, UINT, FLOAT, BYTES, STRING, 7, 65, 66, 67, 68])


SMALL_BYTES = st.lists(st.integers(0, 4), max_size=30).map(bytes)


@st.composite
def peer_defined_types(draw: st.DrawFn) -> bytes:
    """Definitions a peer may send: structs with any field ids (self-references,
    unnamed fields, undefined ids) and slices of anything, then values made
    mostly of small bytes, which read as plausible deltas, lengths and counts."""
    stream = b""
    for type_id in range(65, 65 + draw(st.integers(1, 4))):
        common = encode_struct([(0, encode_bytes(b"T")), (1, encode_int(type_id))])
        if draw(st.booleans()):
            fields = draw(
                st.lists(st.tuples(st.sampled_from(["", "A", "B"]), TYPE_IDS), max_size=3)
            )
            field_list = encode_uint(len(fields)) + b"".join(
                encode_struct(
                    [(0, encode_bytes(name.encode()))] * bool(name)
                    + [(1, encode_int(fid))] * bool(fid)
                )
                for name, fid in fields
            )
            body = encode_struct([(2, encode_struct([(0, common), (1, field_list)]))])
        else:
            elem = encode_struct([(0, common), (1, encode_int(draw(TYPE_IDS)))])
            body = encode_struct([(1, elem)])
        stream += _message(-type_id, body)
    for _ in range(draw(st.integers(1, 4))):
        value = draw(st.one_of(SMALL_BYTES, st.binary(max_size=30)))
        stream += _message(draw(TYPE_IDS), value)
    return stream


@FUZZ
@given(stream=peer_defined_types(), chunk=st.integers(1, 40))
def test_GobDecoder_any_peer_defined_types_raise_only_GobError(stream: bytes, chunk: int) -> None:
    """Types come from the peer, so the decoder must survive any it defines."""
    _decode_all(stream, chunk)
