"""Each service imports on its own, first: an import cycle between services hides while the app
imports them in a lucky order and breaks the first process that imports one alone (the chart
child once imported the digest service first and failed on sla ↔ routing)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bot.services

SCRIPT = """
import importlib, sys
failed = []
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m == "bot" or m.startswith("bot.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except ImportError as exc:
        failed.append(f"{name}: {exc}")
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def test_every_service_module_imports_first() -> None:
    folder = Path(bot.services.__file__).parent
    names = sorted(f"bot.services.{p.stem}" for p in folder.glob("*.py") if p.stem != "__init__")
    done = subprocess.run([sys.executable, "-c", SCRIPT, *names], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
