"""Customer signals after issue 19's close: an answered signal's card loses its buttons (edited in
place through the outbox, saying who answered what), in a single card and in the day's batch
alike; signals come as items of a lead API batch too; the batching limits are settings."""

from __future__ import annotations

import asyncio

from bot.jobs import find_job, run_job
from bot.sandbox import buttons, visible_text
from tests.conftest import ADMIN, REP1, REP2, SALES, RunningBot, make_settings, serve_bot
from tests.scenario.helpers_intake import api
from tests.scenario.test_after_the_close import signal, signal_dms, win

BATCHES = find_job("customer_signals")


def labels(message: object) -> list[str]:
    return [b["text"] for b in buttons(message.to_dict()["blocks"])]  # type: ignore[attr-defined]


async def test_an_answer_replaces_the_cards_buttons_with_who_answered_what(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await api(bot, signal())
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    assert labels(card) == ["Reach out", "Not now", "Tell marketing why", "Remind me"]
    await bot.slack.click(REP1, "Reach out", channel_id=card.channel)  # type: ignore[attr-defined]
    await bot.flush()
    [card] = signal_dms(bot, REP1)  # the same message, edited
    assert labels(card) == []
    shown = visible_text(card.to_dict())  # type: ignore[attr-defined]
    assert f":white_check_mark: <@{REP1}> will reach out" in shown
    assert "attended the pricing webinar" in shown  # the signal itself stays readable


async def test_tell_marketing_why_shows_the_reason_escaped_on_the_card(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    await api(bot, signal())
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    await bot.slack.click(ADMIN, "Tell marketing why", channel_id=card.channel)  # an admin may answer
    assert not (await bot.slack.submit(ADMIN, {"Why not now": "budget freeze <!channel>"})).errors
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    shown = visible_text(card.to_dict())
    assert labels(card) == [] and f":zzz: <@{ADMIN}>: not now — “budget freeze &lt;!channel&gt;”" in shown


async def test_a_batch_dm_loses_only_the_answered_signals_buttons(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    for n in range(5):
        await api(bot, signal(email=f"p{n}@acme.com", activity=f"guide {n}"))
    bot.clock.advance(hours=8)  # the day's working hours are over
    assert BATCHES is not None
    await run_job(bot.handoff, BATCHES, bot.clock.now())
    await bot.flush()
    batch = signal_dms(bot, REP1)[-1]
    assert "2 signals on your customers today" in visible_text(batch.to_dict())
    assert labels(batch).count("Not now") == 2
    # the first "Not now" in the batch is guide 3's
    await bot.slack.click(REP1, "Not now", channel_id=batch.channel, message_ts=batch.ts)
    await bot.flush()
    batch = signal_dms(bot, REP1)[-1]
    shown = visible_text(batch.to_dict())
    assert labels(batch).count("Not now") == 1 and f":zzz: <@{REP1}>: not now" in shown
    assert "guide 3" in shown and "guide 4" in shown


async def test_signals_as_items_of_a_lead_api_batch(bot: RunningBot) -> None:
    await win(bot, email="jane@acme.com", company="Acme")
    status, body, _ = await api(
        bot,
        {
            "leads": [
                {"email": "new@beta.io", "name": "Nia New", "company": "Beta"},
                signal(email="kim@acme.com"),
                signal(email="bob@globex.com", company="Globex"),  # no customer: a lead
                {"kind": "signal", "email": "zed@acme.com", "company": "Acme"},  # says nothing it did
            ]
        },
    )
    assert status == 200, body
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[0]["status"] == "created" and "kind" not in results[0]
    assert (results[1]["kind"], results[1]["status"], results[1]["owner"]) == ("signal", "sent", REP1)
    assert (results[2]["kind"], results[2]["status"]) == ("lead", "created")
    assert results[3]["status"] == "invalid" and "activity" in results[3]["errors"]
    # two leads (one was a signal for no customer), one signal, one invalid item
    assert (body["created"], body["signals"], body["invalid"]) == (2, 1, 1)
    await bot.flush()
    [card] = signal_dms(bot, REP1)
    assert "kim@acme.com" in visible_text(card.to_dict())
    posted = [visible_text(m.blocks) for m in bot.fake.messages(SALES)]
    assert any("Nia New" in p for p in posted) and any("bob@globex.com" in p for p in posted)


async def test_the_batching_limits_are_settings(engine, fake_slack, clock, database_url) -> None:
    settings = make_settings(database_url, fake_slack, signal_cards_per_day=1, signal_batch_size=2)
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        await win(bot, email="jane@acme.com", company="Acme")
        statuses = []
        for n in range(4):
            _, body, _ = await api(bot, signal(email=f"p{n}@acme.com", activity=f"guide {n}"))
            statuses.append(body["status"])
        assert statuses == ["sent", "batched", "batched", "batched"]
        bot.clock.advance(hours=8)
        assert BATCHES is not None
        await asyncio.gather(run_job(bot.handoff, BATCHES, bot.clock.now()))
        await bot.flush()
        dms = [m.text for m in signal_dms(bot, REP1)]
        # one card a day, then DMs of at most two held signals (a lone one reads as a card)
        assert dms[1:] == ["2 signals on your customers today", "Signal on your customer Acme: guide 3"]
        assert bot.fake.dms(REP2) == []
