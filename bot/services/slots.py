"""Once per schedule slot: the first instance to insert a (team, job, slot) row does the work."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.services.runtime import Runtime


async def claim_slot(handoff: Runtime, *, team_id: str, job: str, slot: str) -> bool:
    """True for exactly one instance per (team, job, slot), however many run."""
    async with handoff.uow() as uow:
        return await uow.slots.claim(
            team_id=team_id, job=job, slot=slot, instance=handoff.instance_id, at=handoff.clock.now()
        )
