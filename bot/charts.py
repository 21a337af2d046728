"""Charts as PNG bytes, rendered with matplotlib's Agg backend (no display, thread-safe per figure)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")  # headless: never try to open a window on a server

from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Progress:
    label: str
    percent: float | None  # of target
    expected: float | None  # where we should be by now, in % of target (None: not time-based)


def digest_chart(
    *, title: str, progress: Sequence[Progress], funnel: Sequence[tuple[str, int]], funnel_title: str
) -> bytes:
    """Two panels: progress against target (with the 'should be here by now' mark) and the funnel."""
    figure = Figure(figsize=(10, 4.8), dpi=110, layout="constrained")
    figure.suptitle(title, fontsize=13, fontweight="bold")
    left, right = figure.subplots(1, 2, width_ratios=(3, 2))

    labels = [p.label for p in progress] or ["No targets set"]
    values = [min(150.0, p.percent or 0.0) for p in progress] or [0.0]
    rows = list(range(len(labels)))[::-1]
    colours = []
    for p in progress:
        reached = (p.percent or 0) >= (p.expected if p.expected is not None else 100) * 0.9
        colours.append("#2a9d8f" if reached else "#e76f51")
    left.barh(rows, values, color=colours or ["#cccccc"], height=0.6)
    for row, p in zip(rows, progress, strict=False):
        if p.expected is not None:
            left.plot([p.expected, p.expected], [row - 0.4, row + 0.4], color="#264653", linewidth=2)
        text = "no data" if p.percent is None else f"{p.percent:.0f}%"
        left.text(min(150.0, p.percent or 0.0) + 2, row, text, va="center", fontsize=9)
    left.axvline(100, color="#999999", linestyle="--", linewidth=1)
    left.set_yticks(rows, labels, fontsize=9)
    left.set_xlim(0, 165)
    left.set_xlabel("% of target (dark mark: where we should be by now)")
    left.set_title("Progress against target", fontsize=11)

    names = [name for name, _ in funnel]
    counts = [count for _, count in funnel]
    bars = right.bar(names, counts, color=["#264653", "#2a9d8f", "#e9c46a", "#f4a261"][: len(names)])
    top = max(counts) if counts and max(counts) > 0 else 1
    for i, bar in enumerate(bars):
        label = f"{counts[i]:,}"
        if i > 0 and counts[i - 1]:
            label += f"\n{counts[i] / counts[i - 1] * 100:.0f}%"
        right.text(bar.get_x() + bar.get_width() / 2, bar.get_height() + top * 0.02, label,
                   ha="center", va="bottom", fontsize=9)  # fmt: skip
    right.set_ylim(0, top * 1.3)
    right.set_title(funnel_title, fontsize=11)
    right.spines[["top", "right"]].set_visible(False)
    left.spines[["top", "right"]].set_visible(False)

    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
