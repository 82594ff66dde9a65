"""refnode/core touches no socket, clock, file or global random (style §1, §2)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).parents[3] / "refnode" / "core"
FORBIDDEN = {
    "asyncio",
    "socket",
    "selectors",
    "time",
    "os",
    "threading",
    "subprocess",
    "pathlib",
    "io",
    "tempfile",
    "sqlite3",
    "shutil",
    "signal",
    "datetime",
    "secrets",
    "uuid",
}
OPEN_CALLS = {"open", "input", "print", "exec", "eval", "__import__"}


def test_core_imports_no_io_modules() -> None:
    """Walk every module's AST: no forbidden import, no builtin I/O call."""
    bad = []
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            bad += [f"{path.name}: import {n}" for n in names if n.split(".")[0] in FORBIDDEN]
            if isinstance(node, ast.ImportFrom) and node.module == "random":
                bad.append(f"{path.name}: from random import ... (use an injected Random)")
            if isinstance(node, ast.Call):
                f = node.func
                if isinstance(f, ast.Name) and f.id in OPEN_CALLS:
                    bad.append(f"{path.name}:{node.lineno}: {f.id}()")
                if (
                    isinstance(f, ast.Attribute)
                    and isinstance(f.value, ast.Name)
                    and f.value.id == "random"
                ):
                    bad.append(f"{path.name}:{node.lineno}: global random.{f.attr}()")
    assert bad == []


def test_core_loads_no_io_modules_transitively() -> None:
    """Importing the core (and ``wire``) in a fresh interpreter loads no socket/asyncio."""
    code = (
        "import sys; before = set(sys.modules); import refnode.core.node; "
        "new = {m.split('.')[0] for m in set(sys.modules) - before}; "
        f"print(sorted(new & set({sorted(FORBIDDEN - {'os', 'io', 'time', 'signal'})!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
