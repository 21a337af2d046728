"""The weekly chart is drawn by a child process: the bot never loads matplotlib (issue 22: ~37 MB
resident after the first chart, and drawing that held the GIL while requests waited)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.charts import PNG_SIGNATURE, Progress, digest_chart_isolated

PROBE = """
import sys
from bot.charts import Progress, digest_chart_isolated
from bot.services.digest import chart_png  # the digest's own path imports no plotting either
png = digest_chart_isolated(title="t", progress=[Progress("Leads", 50.0, 40.0)], funnel=[("Delivered", 3)],
                            funnel_title="f")
assert png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", png[:20]
print(sorted(m for m in sys.modules if m.split(".")[0] in ("matplotlib", "numpy", "PIL")))
"""


def test_the_chart_comes_back_as_png_from_a_child() -> None:
    png = digest_chart_isolated(
        title="Handoff weekly digest · March",
        progress=[Progress("Accepted leads (month)", 72.0, 30.0), Progress("Speed to lead", None, None)],
        funnel=[("Delivered", 40), ("Accepted", 30), ("Meeting", 9), ("Won", 2)],
        funnel_title="Funnel · March so far",
    )
    assert png.startswith(PNG_SIGNATURE) and len(png) > 5_000


def test_drawing_leaves_matplotlib_out_of_the_calling_process() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_renderer_that_fails_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", "/bin/false")
    with pytest.raises(RuntimeError, match="chart renderer failed"):
        digest_chart_isolated(title="t", progress=[], funnel=[], funnel_title="f")
