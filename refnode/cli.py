"""``gmc node``: run one reference node from gometa's own config file.

    gmc node --config FILE --data DIR [--embedded | --watcher] [--no-fsync]

It prints the event-line contract on stdout (see ``refnode.io.events``),
answers SIGUSR1 with a ``state`` event, and stops cleanly on SIGTERM/SIGINT.
A bad config or data directory gets one line naming the problem and exit 2.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from refnode.config import ConfigError, load_config
from refnode.core.config import Mode
from refnode.io.driver import BindError, NodeDriver
from refnode.io.events import JsonLines
from refnode.io.initial_state import StateFileError, load_state_file
from refnode.io.rpc_server import serve_rpc
from refnode.io.storage import SqliteStore, StorageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``gmc node``."""
    parser.add_argument("--config", type=Path, required=True, help="gometa JSON config file")
    parser.add_argument(
        "--data", type=Path, help="data directory (SQLite); omit to keep state in memory"
    )
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument(
        "--embedded", action="store_true", help="single always-leading node with watchers"
    )
    shape.add_argument(
        "--watcher", action="store_true", help="join as a non-voting member (solicit votes)"
    )
    parser.add_argument(
        "--state", type=Path, help="initial state JSON, applied only to a fresh data directory"
    )
    parser.add_argument(
        "--leader",
        default="",
        help="watcher: the leader's MessageAddr to dial directly (embedded deployments)",
    )
    parser.add_argument("--fid", default="", help="follower id (default: own MessageAddr)")
    parser.add_argument(
        "--no-fsync", action="store_true", help="benchmark mode: no fsync (unsafe on crash)"
    )
    parser.add_argument("--seed", type=int, default=None, help="seed of the node's jitter RNG")


def run(args: argparse.Namespace) -> int:
    """Load config and store, then serve until a signal stops the node."""
    mode = Mode.EMBEDDED if args.embedded else Mode.WATCHER if args.watcher else Mode.STANDALONE
    try:
        if args.leader and not args.watcher:
            raise ConfigError("--leader", "only a watcher dials a given leader")
        config = load_config(args.config).to_node_config(
            mode, fid=args.fid, leader_message_addr=args.leader
        )
        initial = load_state_file(args.state) if args.state is not None else None
        store = SqliteStore(args.data, durable=not args.no_fsync) if args.data is not None else None
        if store is not None and initial is not None and store.is_fresh():
            store.seed(initial)
    except (ConfigError, StorageError, StateFileError) as exc:
        print(f"gmc node: {exc}", file=sys.stderr)
        return 2
    driver = NodeDriver(config, store, events=JsonLines(), seed=args.seed, initial_state=initial)
    failures: list[BaseException] = []
    try:
        _run_loop(_serve(driver))
    except* OSError as group:
        failures.extend(_leaves(group))
    for failure in failures:
        text = str(failure) if isinstance(failure, BindError) else f"cannot bind: {failure}"
        print(f"gmc node: {text}", file=sys.stderr)
    return 2 if failures else 0


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (faster sockets), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _leaves(error: BaseException) -> list[BaseException]:
    """The plain exceptions inside (possibly nested) exception groups."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


async def _serve(driver: NodeDriver) -> None:
    loop = asyncio.get_running_loop()
    events = driver.events
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, driver.stop)
    loop.add_signal_handler(
        signal.SIGUSR1, lambda: events("state", driver.dump_state()) if driver.node else None
    )
    async with asyncio.TaskGroup() as tasks:
        tasks.create_task(driver.run())
        if driver.config.host.request_addr:
            tasks.create_task(serve_rpc(driver, driver.config.host.request_addr, driver.stopped))
    events("stopped", {})
