"""**Remind me** on a lead card: the lead's owner asks to be reminded of it (a follow-up, like
`/lead followup`), from the card itself, while the lead is theirs and open. Nobody else may set
the owner's follow-up from the card, and a forged form from someone else is refused."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.jobs import find_job, run_job
from bot.sandbox import buttons, visible_text
from bot.storage.models import Followup
from tests.conftest import REP1, REP2, SALES, RunningBot
from tests.scenario.test_verdicts import claimed_lead

FOLLOWUPS = find_job("followups")


async def followups(bot: RunningBot) -> int:
    async with bot.handoff.uow() as uow:
        return int(await uow.session.scalar(select(func.count(Followup.id))) or 0)


async def test_the_owner_sets_a_follow_up_from_the_card_and_is_reminded_once(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot, email="kim@beta.io", name="Kim Lee", company="Beta")
    card = bot.fake.latest(SALES)
    assert card is not None and "Remind me" in [b["text"] for b in buttons(card.blocks)]
    await bot.slack.click(REP1, "Remind me", channel_id=SALES)
    form = bot.fake.open_view(REP1)
    assert form is not None and f"lead #{lead_id}" in visible_text(form)
    bad = await bot.slack.submit(REP1, {"When": "whenever"})
    assert bad.errors and "when" in bad.errors
    done = await bot.slack.submit(REP1, {"When": "tomorrow", "Note": "send the <!here> pricing"})
    assert done.ok and not done.errors
    await bot.flush()
    assert any(f"I'll remind you about lead #{lead_id}" in m.text for m in bot.fake.dms(REP1))
    mine = await bot.slack.command(REP1, "/lead", "mine")
    shown = visible_text((mine.json or {}).get("blocks") or []) if mine.json else str(mine.body)
    assert "Upcoming follow-ups" in shown and f"#{lead_id}" in shown
    assert FOLLOWUPS is not None
    bot.clock.advance(days=2)
    for _ in range(2):
        await run_job(bot.handoff, FOLLOWUPS, bot.clock.now())
        await bot.flush()
    [due] = [m for m in bot.fake.dms(REP1) if "Follow-up" in m.text]
    assert f"lead #{lead_id} (Kim Lee, Beta)" in due.text
    assert "send the &lt;!here&gt; pricing" in due.text  # what the owner typed, escaped


async def test_someone_else_is_refused_at_the_click_and_at_a_forged_form(bot: RunningBot) -> None:
    lead_id = await claimed_lead(bot)
    await bot.slack.click(REP2, "Remind me", channel_id=SALES)
    assert bot.fake.open_view(REP2) is None
    refusal = bot.fake.ephemerals(REP2)[-1].text
    assert "for the lead's owner" in refusal and f"/lead followup {lead_id}" in refusal
    # REP2 submits the owner's form
    await bot.slack.click(REP1, "Remind me", channel_id=SALES)
    form = bot.fake.open_view(REP1)
    assert form is not None
    forged = await bot.slack.submit(REP2, {"When": "tomorrow"}, view_id=form["id"])
    assert forged.errors and "for the lead's owner" in forged.errors["when"]
    assert await followups(bot) == 0


async def test_a_new_or_closed_lead_has_no_remind_me(bot: RunningBot) -> None:
    await claimed_lead(bot)
    await bot.slack.click(REP1, "Reject", channel_id=SALES)
    await bot.slack.submit(REP1, {"Reason": "Duplicate", "Lead quality": "2 — weak"})
    await bot.flush()
    closed = bot.fake.latest(SALES)
    assert closed is not None and [b["text"] for b in buttons(closed.blocks)] == ["Details"]
