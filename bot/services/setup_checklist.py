"""First run: when Handoff is installed and nothing is configured, the installer gets a DM with a
short setup checklist; each change that completes a step queues a chat.update of that DM (through
the outbox, rendered at send time from what is configured then).

An OAuth install names its installer. A single-token install has no install event: the first
admin (HANDOFF_ADMINS) gets the checklist when an instance first starts or is first used. Either
way the DM is queued once per workspace, across instances and restarts: its (team, job, slot) row
is claimed in the same transaction."""

from __future__ import annotations

from bot.config import Settings
from bot.domain.outbox import Purpose
from bot.domain.setup_checklist import CHANNEL_KEYS, CHECKLIST_KEY
from bot.outbox.setup_renderer import setup_facts
from bot.services.context import Ctx

REF_TABLE = "setup"
JOB = "setup_checklist"
SLOT = "first_run"


async def start(ctx: Ctx, installer: str, *, instance: str = "install") -> bool:
    """Queue the checklist DM once per workspace, only when nothing is configured yet."""
    if not installer or await ctx.uow.settings.get(ctx.team_id, CHECKLIST_KEY) is not None:
        return False
    facts = await setup_facts(ctx.uow, ctx.settings, ctx.team_id)
    if not facts.nothing_configured:
        return False
    # two instances starting together both see no checklist yet: the slot row decides
    if not await ctx.uow.slots.claim(team_id=ctx.team_id, job=JOB, slot=SLOT, instance=instance, at=ctx.now):
        return False
    await ctx.uow.settings.set(
        ctx.team_id, CHECKLIST_KEY, {"user": installer, "done": False}, by=None, at=ctx.now
    )
    await ctx.notifier.render_at_send(
        ctx.team_id, installer, purpose=Purpose.SETUP_CHECKLIST, ref_table=REF_TABLE, ref_id=0
    )
    return True


def configured_by_environment(settings: Settings) -> bool:
    """A channel set in the environment: no workspace of this deployment is unconfigured (no
    need to ask Slack which workspace it is, or the database what was set)."""
    return any(getattr(settings, key) for key in CHANNEL_KEYS)


async def start_without_install(ctx: Ctx, *, instance: str) -> bool:
    """A single-token install (no install event): the checklist goes to the first admin of
    HANDOFF_ADMINS, when there is one and nothing is configured yet."""
    admins = await ctx.admins()
    if not admins.user_ids:
        return False  # nobody to tell; a later start with HANDOFF_ADMINS set still can
    return await start(ctx, admins.user_ids[0], instance=instance)


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
