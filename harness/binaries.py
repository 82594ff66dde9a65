"""Locate the binaries the harness drives.

Tests never skip when a binary is missing: they fail with the command that
builds it, so a broken bootstrap is loud in CI rather than silently green.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"


class BinaryNotFoundError(RuntimeError):
    """A required binary is neither built in the repo nor on PATH."""


def find_binary(name: str, make_target: str) -> Path:
    """``.tools/bin/<name>`` under the repo root first, then ``$PATH``."""
    local = TOOLS_BIN / name
    if local.is_file() and os.access(local, os.X_OK):
        return local
    found = shutil.which(name)
    if found is not None:
        return Path(found)
    raise BinaryNotFoundError(
        f"{name} not found in {TOOLS_BIN} or on PATH; build it with "
        f"`make {make_target}` at {REPO_ROOT} (needs the Go toolchain and the Go module proxy)"
    )


def gometa_host() -> Path:
    """The Go host that runs one genuine gometa member (harness/gometa_host)."""
    return find_binary("gometa-host", "gohost")
