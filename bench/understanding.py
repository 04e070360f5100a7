"""Reply understanding against the bare minimum: how long one reply takes to read.

TouchBase reads every reply of the corpora in ``tests/domain/replies`` (a thousand realistic
texts, English and Spanish) with ``understand``; the bare minimum reads the same texts with
one regular expression that takes a leading number as the score and nothing else. Both run
in this process, interleaved; the report gives microseconds per reply and their ratio. The
target is under a millisecond a reply.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from pathlib import Path
from typing import Any

from service.domain.understanding import understand

CORPORA = Path(__file__).resolve().parent.parent / "tests" / "domain" / "replies"
TARGET_US = 1000.0
_BARE = re.compile(r"^\s*(\d{1,2})\b")


def replies() -> list[tuple[str, str | None]]:
    """(body, what it answers) of every corpus reply."""
    rows = []
    for path in sorted(CORPORA.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                data = json.loads(line)
                after = data["after"] if data["after"] in ("reminder", "checkin") else None
                rows.append((data["body"], after))
    return rows


def _touchbase(rows: list[tuple[str, str | None]]) -> float:
    started = time.perf_counter()
    for body, after in rows:
        understand(body, expecting=after)  # type: ignore[arg-type]
    return time.perf_counter() - started


def _bare(rows: list[tuple[str, str | None]]) -> float:
    started = time.perf_counter()
    for body, _ in rows:
        _BARE.match(body)
    return time.perf_counter() - started


def bench_understanding(repeat: int) -> dict[str, Any]:
    """Read every reply ``repeat`` times each way; the medians per reply."""
    rows = replies()
    _touchbase(rows)  # warm the regular expressions' caches, as a long-running process has
    ours, bare = [], []
    for _ in range(repeat):
        ours.append(_touchbase(rows) / len(rows) * 1e6)
        bare.append(_bare(rows) / len(rows) * 1e6)
    touchbase_us, bare_us = statistics.median(ours), statistics.median(bare)
    return {
        "replies": len(rows),
        "repeat": repeat,
        "touchbase_us_per_reply": round(touchbase_us, 1),
        "bare_us_per_reply": round(bare_us, 2),
        "ratio": round(bare_us / touchbase_us, 4),
        "target_us": TARGET_US,
        "met": touchbase_us < TARGET_US,
    }
