"""What the listeners cover, so app.yaml (and help) can be checked against the code."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Registered:
    commands: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    # per slash command, each subcommand's names ('' = the bare command)
    subcommands: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
