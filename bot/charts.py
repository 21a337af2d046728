"""Charts as PNG bytes, rendered with matplotlib's Agg backend (no display, thread-safe per figure).

`digest_chart_isolated` renders in a short-lived child process (`python -m bot.charts`, the
chart's inputs as JSON on stdin, the PNG on stdout), so the bot itself never loads matplotlib.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass

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
    # imported here, not at module level: matplotlib (+ numpy, PIL) is ~45 MB of resident memory
    # that the bot would otherwise carry all week for one chart on Monday (benchmark 4: idle RSS)
    import matplotlib

    matplotlib.use("Agg")  # headless: never try to open a window on a server
    from matplotlib.figure import Figure

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


RENDER_TIMEOUT = 60.0  # seconds; a weekly chart, not a request


def digest_chart_isolated(
    *, title: str, progress: Sequence[Progress], funnel: Sequence[tuple[str, int]], funnel_title: str
) -> bytes:
    """digest_chart, drawn by a child process. In the bot's own process matplotlib (+ numpy, PIL)
    stayed resident after the first chart (~37 MB) and its drawing held the GIL for stretches the
    event loop felt (bench.jobs: the digest's peak memory and stalls). Blocking: call it from a
    worker thread (asyncio.to_thread)."""
    spec = {
        "title": title,
        "progress": [asdict(p) for p in progress],
        "funnel": [list(step) for step in funnel],
        "funnel_title": funnel_title,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot.charts"],
        input=json.dumps(spec).encode(),
        capture_output=True,
        timeout=RENDER_TIMEOUT,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.startswith(PNG_SIGNATURE):
        raise RuntimeError(
            f"chart renderer failed ({done.returncode}): {done.stderr.decode(errors='replace')[-500:]}"
        )
    return done.stdout


def _main() -> None:
    spec = json.loads(sys.stdin.buffer.read())
    png = digest_chart(
        title=spec["title"],
        progress=[Progress(**p) for p in spec["progress"]],
        funnel=[(str(name), int(count)) for name, count in spec["funnel"]],
        funnel_title=spec["funnel_title"],
    )
    sys.stdout.buffer.write(png)


if __name__ == "__main__":
    _main()
