"""First run: when Handoff is installed and nothing is configured, the installer gets a DM with a
short setup checklist; each change that completes a step queues a chat.update of that DM (through
the outbox, rendered at send time from what is configured then)."""

from __future__ import annotations

from bot.domain.outbox import Purpose
from bot.domain.setup_checklist import CHECKLIST_KEY
from bot.outbox.setup_renderer import setup_facts
from bot.services.context import Ctx

REF_TABLE = "setup"


async def start(ctx: Ctx, installer: str) -> bool:
    """Queue the checklist DM once per workspace, only when nothing is configured yet."""
    if not installer or await ctx.uow.settings.get(ctx.team_id, CHECKLIST_KEY) is not None:
        return False
    facts = await setup_facts(ctx.uow, ctx.settings, ctx.team_id)
    if not facts.nothing_configured:
        return False
    await ctx.uow.settings.set(
        ctx.team_id, CHECKLIST_KEY, {"user": installer, "done": False}, by=None, at=ctx.now
    )
    await ctx.notifier.render_at_send(
        ctx.team_id, installer, purpose=Purpose.SETUP_CHECKLIST, ref_table=REF_TABLE, ref_id=0
    )
    return True


async def refresh(ctx: Ctx) -> None:
    """After a change that may complete a step: edit the DM in place (until every step is done)."""
    state = await ctx.uow.settings.get(ctx.team_id, CHECKLIST_KEY)
    if not isinstance(state, dict) or state.get("done") or not state.get("user"):
        return
    facts = await setup_facts(ctx.uow, ctx.settings, ctx.team_id)
    await ctx.notifier.render_at_send(
        ctx.team_id,
        str(state["user"]),
        purpose=Purpose.SETUP_CHECKLIST,
        ref_table=REF_TABLE,
        ref_id=0,
        edit=True,
    )
    if facts.done:  # the last edit shows every step ticked; later changes leave it alone
        await ctx.uow.settings.set(ctx.team_id, CHECKLIST_KEY, {**state, "done": True}, by=None, at=ctx.now)
