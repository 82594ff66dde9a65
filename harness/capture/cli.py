"""``gmc capture decode FILE.pcap [--json]``: one line per gometa frame."""

from __future__ import annotations

import argparse
import json
import sys

import wire
from harness.capture.reassembly import message_fields


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``capture decode``."""
    sub = parser.add_subparsers(dest="capture_command", metavar="ACTION", required=True)
    dec = sub.add_parser("decode", help="decode the gometa frames of a pcap file")
    dec.add_argument("file", metavar="FILE.pcap")
    dec.add_argument("--json", action="store_true", help="one JSON object per line")
    dec.add_argument(
        "--ports",
        type=lambda s: [int(p) for p in s.split(",") if p],
        default=None,
        help="comma-separated message/election ports (default: detect gometa streams)",
    )


def run(args: argparse.Namespace) -> int:
    """Print every frame; errors go to stderr and make the exit status 1."""
    from harness.capture.pcap import decode_pcap

    result = decode_pcap(args.file, args.ports)
    for i, frame in enumerate(result.frames):
        fields = message_fields(frame.message)
        if args.json:
            record = {
                "index": i,
                "pkt_index": frame.pkt_index,
                "time": frame.time,
                "proto": frame.proto,
                "stream": frame.stream,
                "name": frame.name,
                "fields": fields,
                "hex": wire.encode(frame.message).hex(),
            }
            print(json.dumps(record))
        else:
            text = " ".join(f"{k}={v}" for k, v in fields.items())
            print(f"{frame.time:.6f} {frame.proto} {frame.stream} {frame.name} {text}")
    for err in result.errors:
        print(f"error: {err}", file=sys.stderr)
    return 1 if result.errors else 0
