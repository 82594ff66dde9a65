"""Write (or check) the state diagrams generated from refnode.core's tables.

    python docs/state-diagrams/make_state_diagrams.py          # rewrite
    python docs/state-diagrams/make_state_diagrams.py --check  # exit 1 if stale

The text comes from :func:`refnode.core.diagrams.render`; this script only
does the file I/O the core may not do (style §1).
"""

from __future__ import annotations

import sys
from pathlib import Path

from refnode.core.diagrams import render

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    check = "--check" in argv
    files = render()
    stale = []
    for name, text in files.items():
        path = HERE / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text)
    known = set(files) | {Path(__file__).name}
    extra = sorted(p.name for p in HERE.iterdir() if p.name not in known)
    for name in stale:
        sys.stdout.write(f"{'stale' if check else 'wrote'}: {name}\n")
    for name in extra:
        sys.stdout.write(f"not generated (remove?): {name}\n")
    return 1 if check and (stale or extra) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
