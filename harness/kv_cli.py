"""``gmc kv``: one key-value call to a member's RequestAddr (spec §9.2).

    gmc kv get KEY --addr HOST:PORT
    gmc kv set|add KEY VALUE --addr HOST:PORT      (VALUE "-" reads stdin)
    gmc kv delete KEY --addr HOST:PORT

``get`` prints the value (a local read on that member, not through
consensus) and a newline; writes print ``ok`` once committed. Like the Go
host's ``-client``, any failure is one line on stderr and exit status 1;
usage mistakes exit 2.
"""

from __future__ import annotations

import argparse
import sys

from harness.rpcclient import GometaRpcClient, RpcConnectionError, RpcError, RpcProtocolError

_OPS = {"get": "Get", "set": "Set", "add": "Add", "delete": "Delete"}
_WITH_VALUE = {"set", "add"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmc kv``."""
    parser.add_argument("op", choices=sorted(_OPS), help="the operation")
    parser.add_argument("key", metavar="KEY")
    parser.add_argument(
        "value", metavar="VALUE", nargs="?", help="value for set/add ('-' reads stdin)"
    )
    parser.add_argument("--addr", required=True, metavar="HOST:PORT", help="a member's RequestAddr")
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds to wait for connect and answer"
    )


def _fail(message: str, status: int = 1) -> int:
    print(f"gmc kv: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    """Make the call; print its result or one line of error."""
    op: str = args.op
    if op in _WITH_VALUE and args.value is None:
        return _fail(f"{op} needs a VALUE", 2)
    if op not in _WITH_VALUE and args.value is not None:
        return _fail(f"{op} takes no VALUE", 2)
    value = b""
    if args.value == "-":
        value = sys.stdin.buffer.read()
    elif args.value is not None:
        value = str(args.value).encode("utf-8", "surrogateescape")
    try:
        with GometaRpcClient(args.addr, timeout=args.timeout) as client:
            result = client.call(_OPS[op], args.key, value)
    except ValueError as exc:
        if isinstance(exc, RpcProtocolError):
            return _fail(f"{args.addr} is not a gometa RPC server: {exc}")
        return _fail(f"--addr: {exc}", 2)
    except RpcConnectionError as exc:
        return _fail(str(exc))
    except RpcError as exc:
        return _fail(f"{args.addr} answered: {exc}")
    if op == "get":
        sys.stdout.buffer.write(result + b"\n")
        sys.stdout.flush()
    else:
        print("ok")
    return 0
