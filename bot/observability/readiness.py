"""Whether this instance should get traffic: not while it migrates, not once it is stopping.
(/readyz also asks the database; /healthz stays liveness.)"""

from __future__ import annotations

from enum import StrEnum

from bot.observability import metrics


class Phase(StrEnum):
    MIGRATING = "migrating"
    READY = "ready"
    DRAINING = "draining"  # SIGTERM received: the load balancer should stop sending requests


class Readiness:
    def __init__(self, phase: Phase = Phase.READY) -> None:
        self.phase = phase
        self.set(phase)

    def set(self, phase: Phase) -> None:
        self.phase = phase
        metrics.ready.set(1 if phase is Phase.READY else 0)

    @property
    def serving(self) -> bool:
        """Slack and API requests are answered (not while the schema is being migrated)."""
        return self.phase is not Phase.MIGRATING
