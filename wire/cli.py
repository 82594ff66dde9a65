"""``gmc decode``: decode gometa frames given as hex, one per argument or line.

Useful when reading logs or captures by hand: prints the message, or the
DecodeError with its reason, offset and field path, and with ``--inspect``
every non-canonical feature Go would accept but never send.
"""

from __future__ import annotations

import argparse
import sys

from wire._codec import decode, decode_datagram, inspect, inspect_datagram
from wire._errors import DecodeError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmc decode``."""
    parser.add_argument("hex", nargs="*", help="frames as hex; read stdin lines if none")
    parser.add_argument("--udp", action="store_true", help="decode as UDP datagrams (spec §1.3)")
    parser.add_argument("--inspect", action="store_true", help="also list non-canonical findings")


def _decode_one(text: str, udp: bool, with_findings: bool) -> str:
    try:
        data = bytes.fromhex(text.strip().replace(" ", ""))
    except ValueError as exc:
        return f"error: not hex: {exc}"
    try:
        if with_findings:
            found = inspect_datagram(data) if udp else inspect(data)
            notes = [f"  non-canonical: {f.describe()}" for f in found.findings]
            return "\n".join([repr(found.message), *notes])
        return repr(decode_datagram(data) if udp else decode(data))
    except DecodeError as exc:
        return f"error: {exc}"


def run(args: argparse.Namespace) -> int:
    """Decode each frame; exit 1 if any failed."""
    sources = args.hex or [line for line in sys.stdin if line.strip()]
    failed = False
    for text in sources:
        result = _decode_one(text, args.udp, args.inspect)
        failed |= result.startswith("error:")
        print(result)
    return 1 if failed else 0
