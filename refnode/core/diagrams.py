"""State diagrams generated from the transition tables (h11 ``make-state-diagrams.py``).

:func:`render` turns every table of :mod:`.tables` into Graphviz DOT and
Mermaid text. The core does no file I/O, so the writer is
``docs/state-diagrams/make_state_diagrams.py``; a test checks that the
committed files equal :func:`render`'s output, so they cannot go stale.

Edges with the same ends are merged into one label (one input per line).
A table with a failure state gets one dashed ``error`` edge from every other
state: every pair missing from the table leads there.
"""

from __future__ import annotations

from .tables import TABLES, Table

HEADER = "generated from {source} by docs/state-diagrams/make_state_diagrams.py; do not edit"


def _merged(table: Table) -> list[tuple[str, str, list[str]]]:
    order: list[tuple[str, str]] = []
    labels: dict[tuple[str, str], list[str]] = {}
    for e in table.edges:
        key = (e.from_state, e.to_state)
        if key not in labels:
            order.append(key)
            labels[key] = []
        text = e.input if not e.action else f"{e.input} / {e.action}"
        if text:
            labels[key].append(text)
    return [(a, b, labels[(a, b)]) for a, b in order]


def _error_sources(table: Table) -> list[str]:
    if table.failure is None:
        return []
    finals = {table.failure}
    return [s for s in table.states if s not in finals and _has_exit(table, s)]


def _has_exit(table: Table, state: str) -> bool:
    return any(e.from_state == state for e in table.edges)


def to_dot(table: Table) -> str:
    lines = [
        f"// {HEADER.format(source=table.source)}",
        f"digraph {table.name} {{",
        f'  label="{table.title}";',
        "  labelloc=t;",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    if table.start is not None:
        lines.append('  __start [shape=point, label=""];')
        lines.append(f'  __start -> "{table.start}";')
    for state in table.states:
        attrs = " [peripheries=2]" if state == table.failure else ""
        lines.append(f'  "{state}"{attrs};')
    for a, b, labels in _merged(table):
        label = "\\n".join(labels)
        lines.append(f'  "{a}" -> "{b}"' + (f' [label="{label}"];' if label else ";"))
    for s in _error_sources(table):
        lines.append(f'  "{s}" -> "{table.failure}" [style=dashed, label="error"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mid(state: str) -> str:
    return state.replace("-", "_")


def to_mermaid(table: Table) -> str:
    lines = [
        f"%% {HEADER.format(source=table.source)}",
        "stateDiagram-v2",
        f"    %% {table.title}",
    ]
    if table.start is not None:
        lines.append(f"    [*] --> {_mid(table.start)}")
    for a, b, labels in _merged(table):
        label = ", ".join(labels)
        lines.append(f"    {_mid(a)} --> {_mid(b)}" + (f": {label}" if label else ""))
    for s in _error_sources(table):
        lines.append(f"    {_mid(s)} --> {table.failure}: error")
    return "\n".join(lines) + "\n"


def render() -> dict[str, str]:
    """File name (relative to docs/state-diagrams/) → its text."""
    files: dict[str, str] = {}
    index = [
        "# State diagrams of refnode.core",
        "",
        "Generated from the transition tables by"
        " `python docs/state-diagrams/make_state_diagrams.py`; do not edit.",
        "A test fails when these files and the tables disagree.",
        "Dashed `error` edges: every pair missing from the table leads to the failure state.",
        "",
    ]
    for table in TABLES.values():
        files[f"{table.name}.dot"] = to_dot(table)
        mermaid = to_mermaid(table)
        files[f"{table.name}.mmd"] = mermaid
        index += [
            f"## {table.name}: {table.title}",
            "",
            f"Source: `{table.source}`.",
            "",
            "```mermaid",
            mermaid.rstrip("\n"),
            "```",
            "",
        ]
    files["index.md"] = "\n".join(index)
    return files
