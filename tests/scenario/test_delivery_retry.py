"""`/handoff status retry`: a card Slack refused (the channel was gone) fails with an alert to the
admins; once the channel is back, the admin re-queues it and the card is posted exactly once."""

from __future__ import annotations

from bot.sandbox import buttons, visible_text
from tests.conftest import ADMIN, REP1, SALES, RunningBot
from tests.reliability.helpers import card_counts, outbox_rows
from tests.scenario.test_card_and_claim import add_lead


async def test_a_card_that_failed_is_posted_once_after_the_channel_is_fixed(bot: RunningBot) -> None:
    await bot.handoff.default_team_id()
    del bot.fake.channels[SALES]  # someone deleted #sales
    lead_id = await add_lead(bot)
    card_row = (await outbox_rows(bot.handoff))[0]
    assert (card_row.status, card_row.last_error) == ("failed", "channel_not_found")
    [alert] = bot.fake.dms(ADMIN)
    assert "channel_not_found" in alert.text and "/handoff status retry" in alert.text

    bot.fake.add_channel(SALES, name="sales", members=[REP1, ADMIN])
    reply = await bot.slack.command(ADMIN, "/handoff", "status retry")
    assert "Queued *1* failed deliveries again" in reply.text
    await bot.flush()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    [card] = bot.fake.messages(SALES)
    assert "Jane Doe · Acme" in visible_text(card.blocks) and buttons(card.blocks)[0]["text"] == "Claim"
    assert len(bot.fake.dms(ADMIN)) == 1  # the old alert is not sent again

    # nothing left to retry; running it again posts nothing twice
    again = await bot.slack.command(ADMIN, "/handoff", "status retry")
    assert "no failed deliveries" in again.text
    await bot.flush()
    assert card_counts(bot.fake, [SALES]) == {lead_id: 1}
    # and the card is the one a claim edits (its ts was recorded)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    assert f"Claimed by <@{REP1}>" in visible_text(bot.fake.latest(SALES).blocks)


async def test_only_admins_may_retry(bot: RunningBot) -> None:
    del bot.fake.channels[SALES]
    await add_lead(bot)
    reply = await bot.slack.command(REP1, "/handoff", "status retry")
    assert "Only Handoff admins" in reply.text
    rows = await outbox_rows(bot.handoff)
    assert rows[0].status == "failed"


async def test_status_with_an_unknown_word_shows_the_usage(bot: RunningBot) -> None:
    reply = await bot.slack.command(ADMIN, "/handoff", "status frobnicate")
    assert "/handoff status retry" in reply.text
