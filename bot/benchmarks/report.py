"""docs/BENCHMARKS.md: each `make` target owns one marked section and rewrites only that."""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import PROJECT_ROOT

BENCHMARKS = PROJECT_ROOT / "docs" / "BENCHMARKS.md"


def markers(target: str) -> tuple[str, str]:
    """The start and end markers of `make <target>`'s section."""
    return f"<!-- make {target}: start -->", f"<!-- make {target}: end -->"


def write_section(target: str, body: str) -> None:
    """Replaces `make <target>`'s section (or appends it), keeping the others."""
    start, end = markers(target)
    section = f"{start}\n{body.strip()}\n{end}"
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else "# Benchmarks\n"
    if start in text:
        before, _, rest = text.partition(start)
        _, _, after = rest.partition(end)
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    BENCHMARKS.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS.write_text(text)


def percentile(values: Sequence[float], quantile: float) -> float:
    """The nearest-rank percentile of `values` (0 < quantile <= 1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]
