"""Write one bench's table into a shared docs file without touching the other benches' parts.

Several scripts report into ``docs/BENCHMARKS.md`` and ``docs/RESULTS.md``. Each owns a section
between ``<!-- BEGIN name -->`` and ``<!-- END name -->``; rerunning a script replaces only its
own section (appended at the end the first time), so the files can be regenerated piecemeal.
"""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, name: str, markdown: str) -> None:
    """Replace (or append) the section called ``name`` in ``path`` with ``markdown``."""
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{markdown.rstrip()}\n{end}\n"
    text = path.read_text() if path.exists() else ""
    start = text.find(begin)
    if start >= 0:
        stop = text.find(end, start)
        if stop < 0:
            raise ValueError(f"{path}: section {name!r} has a BEGIN marker but no END marker")
        text = text[:start] + block + text[stop + len(end) :].lstrip("\n")
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + block
    path.write_text(text)
