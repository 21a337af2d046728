"""The hash-pinned locks (requirements.lock, requirements-dev.lock) cover what pyproject.toml names.

CI installs the runtime dependencies only from requirements.lock with --require-hashes, then the
project with --no-deps: a dependency added to pyproject.toml without `tools/lock.sh` would be missing
there, so these fail first and say which.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")


def read_lock(text: str) -> dict[str, tuple[Version, int]]:
    """name → (pinned version, number of hashes) for every pin in a pip-compile --generate-hashes file."""
    pins: dict[str, tuple[Version, int]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        found = PIN.match(line)
        if found:
            current = canonicalize_name(found.group(1))
            pins[current] = (Version(found.group(2)), 0)
        elif line.startswith("--hash=sha256:") and current is not None:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
        else:
            raise AssertionError(f"not a hashed pin: {raw!r}")
    return pins


def uncovered(requirements: list[str], pins: dict[str, tuple[Version, int]]) -> list[str]:
    """The requirements the lock does not pin, or pins outside their range (markers that do not apply
    on this interpreter are skipped, as pip would)."""
    wrong = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        pin = pins.get(canonicalize_name(req.name))
        if pin is None:
            wrong.append(f"{text}: not in the lock")
        elif not req.specifier.contains(pin[0], prereleases=True):
            wrong.append(f"{text}: locked at {pin[0]}")
    return wrong


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_the_runtime_lock_pins_every_dependency_in_pyproject_with_hashes() -> None:
    pins = read_lock((ROOT / "requirements.lock").read_text())
    assert uncovered(project()["dependencies"], pins) == []
    assert [name for name, (_, hashes) in pins.items() if hashes == 0] == []
    # extras pull their own dependencies in: SQLAlchemy[asyncio] needs greenlet
    assert "greenlet" in pins


def test_the_dev_lock_adds_the_dev_extras_and_agrees_with_the_runtime_lock() -> None:
    runtime = read_lock((ROOT / "requirements.lock").read_text())
    dev = read_lock((ROOT / "requirements-dev.lock").read_text())
    assert uncovered(project()["dependencies"] + project()["optional-dependencies"]["dev"], dev) == []
    assert {name: dev[name][0] for name in runtime if name in dev} == {
        name: version for name, (version, _) in runtime.items()
    }
    assert [name for name, (_, hashes) in dev.items() if hashes == 0] == []


def test_a_dependency_added_without_relocking_is_named() -> None:
    pins = read_lock("aiohttp==3.9.5 \\\n    --hash=sha256:" + "0" * 64 + "\n    # via handoff\n")
    assert uncovered(["aiohttp>=3.9,<4", "requests>=2", "uvloop; sys_platform == 'nowhere'"], pins) == [
        "requests>=2: not in the lock"
    ]
    assert uncovered(["aiohttp>=3.10"], pins) == ["aiohttp>=3.10: locked at 3.9.5"]
