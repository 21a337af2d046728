"""Partnership discussions over HTTP against the fake Slack, with an injected clock: scheduled
prompts once per slot and never on a holiday, the answer modal (attributed and anonymous),
data-driven prompts, +1 toggling and recaps."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import build_app
from bot.clock import FrozenClock
from bot.domain.events import EventKind
from bot.jobs import JOBS, run_job
from bot.outbox.pacing import Pacer
from bot.sandbox import FakeSlack, buttons, visible_text
from bot.services.discussions import run_recaps, run_scheduled_prompts, seed_questions
from bot.storage.models import DiscussionAnswer, Lead, LeadEvent, Outbox
from tests.conftest import (
    ADMIN,
    MARKETER,
    MODES,
    PARTNERSHIP,
    REP1,
    REP2,
    RunningBot,
    make_settings,
    serve_bot,
)


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every scenario here that runs the bot runs it over HTTP and over Socket Mode."""
    return str(request.param)


MONDAY_10 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday; HANDOFF_DISCUSS_CRON="mon 10:00"
FIRST_SEED = seed_questions()[0][0]


async def team(bot: RunningBot) -> str:
    return await bot.handoff.default_team_id() or ""


def prompts(bot: RunningBot):
    return [m for m in bot.fake.messages(PARTNERSHIP) if "Share your thoughts" in visible_text(m.blocks)]


def job(name: str):
    return next(j for j in JOBS if j.name == name)


async def start(bot: RunningBot, user: str = REP1, text: str = "") -> None:
    reply = await bot.slack.command(user, "/discuss", text, channel_id=PARTNERSHIP)
    assert reply.status == 200
    await bot.flush()


async def answer(bot: RunningBot, user: str, text: str, *, anonymous: bool = False, prompt_ts: str) -> None:
    await bot.slack.click(user, "Share your thoughts", channel_id=PARTNERSHIP, message_ts=prompt_ts)
    values: dict[str, object] = {"Your answer": text}
    if anonymous:
        values["Anonymity"] = True
    reply = await bot.slack.submit(user, values)
    assert reply.status == 200 and not reply.errors, reply.body
    await bot.flush()


# --------------------------------------------------------------------------- scheduled prompts


async def test_scheduled_prompt_posts_once_per_slot_across_two_instances(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, bot: RunningBot
) -> None:
    team_id = await team(bot)
    clock.set(MONDAY_10 - timedelta(minutes=1))
    await run_job(bot.handoff, job("discussion_prompts"), clock.now())
    await bot.flush()
    assert prompts(bot) == []  # not due yet

    second = build_app(
        bot.handoff.settings, engine=engine, clock=clock, pacer=Pacer(1000, 1000), with_scheduler=False
    )
    try:
        clock.set(MONDAY_10)
        for app in (bot.handoff, second, bot.handoff, second):
            await run_scheduled_prompts(app, team_id, clock.now())
        clock.set(MONDAY_10 + timedelta(minutes=1))  # the next ticks of the minute job
        await run_scheduled_prompts(second, team_id, clock.now())
        await run_job(bot.handoff, job("discussion_prompts"), clock.now())
        await bot.flush()
        await second.sender.drain()
    finally:
        await second.close()
    [prompt] = prompts(bot)
    assert [b["text"] for b in buttons(prompt.blocks)] == ["Share your thoughts"]
    assert FIRST_SEED in visible_text(prompt.blocks)  # a quiet week: the bank's first question

    # a week later, the next slot: one more prompt, and not the same question
    clock.set(MONDAY_10 + timedelta(days=7))
    await run_scheduled_prompts(bot.handoff, team_id, clock.now())
    await run_scheduled_prompts(bot.handoff, team_id, clock.now())
    await bot.flush()
    first, second_prompt = prompts(bot)
    assert visible_text(second_prompt.blocks) != visible_text(first.blocks)


async def test_scheduled_prompt_skips_a_holiday(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str
) -> None:
    settings = make_settings(
        database_url, fake_slack, holidays="2026-03-09", discuss_cron="mon 10:00", timezone="Europe/Berlin"
    )
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        team_id = await team(bot)
        berlin_monday_10 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)  # 10:00 in Berlin, a holiday
        for minutes in (0, 1, 30):
            clock.set(berlin_monday_10 + timedelta(minutes=minutes))
            assert await run_scheduled_prompts(bot.handoff, team_id, clock.now()) == 0
        await bot.flush()
        assert prompts(bot) == []
        clock.set(berlin_monday_10 + timedelta(days=7))  # the Monday after is a working day
        assert await run_scheduled_prompts(bot.handoff, team_id, clock.now()) == 1
        await bot.flush()
        assert len(prompts(bot)) == 1


async def test_admin_moves_the_schedule_per_channel(bot: RunningBot) -> None:
    team_id = await team(bot)
    await bot.slack.command(REP1, "/discuss", "schedule thu 15:00")
    assert "Only Handoff admins" in bot.fake.ephemerals(REP1)[-1].text
    await bot.slack.command(ADMIN, "/discuss", f"schedule thu 15:00 <#{PARTNERSHIP}|partnership>")
    assert "thu 15:00" in bot.fake.ephemerals(ADMIN)[-1].text
    await bot.slack.command(ADMIN, "/discuss", "schedule someday")
    assert "mon 10:00" in bot.fake.ephemerals(ADMIN)[-1].text  # how to write one
    bot.clock.set(MONDAY_10)
    assert await run_scheduled_prompts(bot.handoff, team_id, bot.clock.now()) == 0
    bot.clock.set(datetime(2026, 3, 5, 15, 0, tzinfo=UTC))  # Thursday
    assert await run_scheduled_prompts(bot.handoff, team_id, bot.clock.now()) == 1
    await bot.slack.command(ADMIN, "/discuss", "schedule off")
    bot.clock.set(datetime(2026, 3, 12, 15, 0, tzinfo=UTC))
    assert await run_scheduled_prompts(bot.handoff, team_id, bot.clock.now()) == 0


# --------------------------------------------------------------------------- answers


def chat_args_since(fake: FakeSlack, start: int) -> str:
    return json.dumps([c.args for c in fake.calls[start:] if c.method.startswith("chat.")])


async def test_attributed_and_anonymous_answers_through_the_modal(bot: RunningBot) -> None:
    await start(bot)
    [prompt] = prompts(bot)
    await answer(bot, REP1, "Calling within the hour <!channel> made the difference", prompt_ts=prompt.ts)
    [attributed] = bot.fake.thread(PARTNERSHIP, prompt.ts)
    text = visible_text(attributed.blocks)
    assert f"<@{REP1}> answered" in text
    assert "&lt;!channel&gt;" in text and "<!channel>" not in attributed.text  # escaped
    assert [b["text"] for b in buttons(attributed.blocks)] == ["+1"]

    before = len(bot.fake.calls)
    await answer(bot, MARKETER, "Honestly, the webinar list was stale.", anonymous=True, prompt_ts=prompt.ts)
    _, anonymous = bot.fake.thread(PARTNERSHIP, prompt.ts)
    assert "Anonymous answer" in visible_text(anonymous.blocks)
    assert "the webinar list was stale" in visible_text(anonymous.blocks)
    posted = chat_args_since(bot.fake, before)
    assert "chat.postMessage" in [c.method for c in bot.fake.calls[before:]]
    for trace in (MARKETER, "maria", "Maria Marketer", "marketing"):
        assert trace not in posted, trace
    # nothing identifies the author in storage either
    async with bot.handoff.uow() as uow:
        rows = list(await uow.session.scalars(select(DiscussionAnswer).order_by(DiscussionAnswer.id)))
        outbox = json.dumps([r.payload for r in await uow.session.scalars(select(Outbox))])
    assert [(r.user_id, r.anonymous) for r in rows] == [(REP1, False), (None, True)]
    assert MARKETER not in outbox
    # the modal said thank you instead of posting anything to the person
    assert "Thank you" in visible_text(bot.fake.open_view(MARKETER))


async def test_empty_answer_is_an_inline_error_and_closed_discussions_refuse(bot: RunningBot) -> None:
    await start(bot)
    [prompt] = prompts(bot)
    await bot.slack.click(REP2, "Share your thoughts", channel_id=PARTNERSHIP)
    reply = await bot.slack.submit(REP2, {"Your answer": "   "})
    assert reply.errors == {"answer": "Write a few words first."}
    bot.clock.advance(days=bot.handoff.settings.discuss_window_days, minutes=1)
    reply = await bot.slack.submit(REP2, {"Your answer": "late thought"})
    assert "closed" in (reply.errors or {}).get("answer", "")
    await bot.slack.click(REP2, "Share your thoughts", channel_id=PARTNERSHIP)
    await bot.flush()
    assert "closed" in bot.fake.ephemerals(REP2)[-1].text
    assert bot.fake.thread(PARTNERSHIP, prompt.ts) == []


# --------------------------------------------------------------------------- data-driven prompts


async def add_verdicts(
    bot: RunningBot, source: str, *, accepted: int, rejected: dict[str, int], at: datetime
) -> None:
    team_id = await team(bot)
    async with bot.handoff.uow() as uow:
        n = 0
        plan = [("accepted", None)] * accepted + [
            ("rejected", r) for r, k in rejected.items() for _ in range(k)
        ]
        for kind, reason in plan:
            n += 1
            lead = Lead(
                team_id=team_id,
                dedupe_key=f"{source}-{at.isoformat()}-{n}",
                email=f"p{n}@{source}.example",
                source=source,
                status=kind,
                owner_id=REP1,
                reject_reason=reason,
                fields={},
                created_at=at - timedelta(days=1),
                updated_at=at,
                verdict_at=at,
                accepted_at=at if kind == "accepted" else None,
                rejected_at=at if kind == "rejected" else None,
            )
            uow.session.add(lead)
            await uow.session.flush()
            kind_value = EventKind.ACCEPTED if kind == "accepted" else EventKind.REJECTED
            uow.session.add(
                LeadEvent(
                    team_id=team_id,
                    lead_id=lead.id,
                    kind=kind_value.value,
                    actor_id=REP1,
                    origin="slack",
                    data={"reason": reason} if reason else {},
                    created_at=at,
                )
            )


async def test_data_driven_prompt_states_the_weeks_most_notable_fact(bot: RunningBot) -> None:
    now = bot.clock.now()
    await add_verdicts(bot, "webinar", accepted=5, rejected={"not_icp": 9}, at=now - timedelta(days=2))
    await add_verdicts(bot, "referral", accepted=9, rejected={"bad_data": 1}, at=now - timedelta(days=3))
    # last month's disaster is not this week's news
    await add_verdicts(bot, "tradeshow", accepted=0, rejected={"no_budget": 12}, at=now - timedelta(days=20))
    await start(bot)
    [prompt] = prompts(bot)
    text = visible_text(prompt.blocks)
    assert "This week:* Webinar leads: 9 of 14 rejected as 'Not our ICP' this week" in text
    assert "Sales, what would have made these leads worth your time?" in text
    assert "Tradeshow" not in text and FIRST_SEED not in text


async def test_quiet_week_uses_a_bank_question_and_own_questions_work(bot: RunningBot) -> None:
    now = bot.clock.now()
    await add_verdicts(bot, "webinar", accepted=6, rejected={"not_icp": 2}, at=now - timedelta(days=1))
    await start(bot)
    [prompt] = prompts(bot)
    assert FIRST_SEED in visible_text(prompt.blocks)
    assert "This week" not in visible_text(prompt.blocks)
    await start(bot, MARKETER, "What did the <b>demo</b> change for you?")
    assert "What did the &lt;b&gt;demo&lt;/b&gt; change for you?" in visible_text(prompts(bot)[-1].blocks)
    assert f"<#{PARTNERSHIP}>" in bot.fake.ephemerals(MARKETER)[-1].text


# --------------------------------------------------------------------------- votes and recaps


def agree_line(msg) -> str:
    return next(line for line in visible_text(msg.blocks).split("\n") if line.startswith(":+1:"))


async def test_plus_one_toggles_and_recap_counts(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str
) -> None:
    fake_slack.add_usergroup("S0SALES", handle="sales", users=[REP1, REP2])
    settings = make_settings(database_url, fake_slack, sales_usergroup="S0SALES", marketing_users=MARKETER)
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        await start(bot, ADMIN)
        [prompt] = prompts(bot)
        await answer(bot, REP1, "Speed: we called within the hour.", prompt_ts=prompt.ts)
        await answer(bot, MARKETER, "The case study did the convincing.", prompt_ts=prompt.ts)
        await answer(
            bot, REP2, "Nobody told me the lead asked for pricing.", anonymous=True, prompt_ts=prompt.ts
        )
        _, marketer_answer, anon_answer = bot.fake.thread(PARTNERSHIP, prompt.ts)
        assert agree_line(marketer_answer) == ":+1: No +1 yet"

        async def plus_one(user: str, msg) -> None:
            reply = await bot.slack.click(user, "+1", channel_id=PARTNERSHIP, message_ts=msg.ts)
            assert reply.status == 200
            await bot.flush()

        await plus_one(REP1, marketer_answer)
        assert agree_line(bot.fake.message(PARTNERSHIP, marketer_answer.ts)) == ":+1: 1 person agrees"
        await plus_one(REP2, marketer_answer)
        assert agree_line(bot.fake.message(PARTNERSHIP, marketer_answer.ts)) == ":+1: 2 people agree"
        await plus_one(REP2, marketer_answer)  # changed their mind
        assert agree_line(bot.fake.message(PARTNERSHIP, marketer_answer.ts)) == ":+1: 1 person agrees"
        await plus_one(REP1, anon_answer)
        await plus_one(MARKETER, anon_answer)
        await plus_one(ADMIN, anon_answer)
        anon_now = bot.fake.message(PARTNERSHIP, anon_answer.ts)
        assert agree_line(anon_now) == ":+1: 3 people agree"
        assert "Anonymous answer" in visible_text(anon_now.blocks)  # the edit keeps it anonymous
        assert REP2 not in json.dumps(anon_now.to_dict())

        # /discuss recap while open: the summary so far, to the asker only
        await bot.slack.command(REP1, "/discuss", "recap", channel_id=PARTNERSHIP)
        so_far = bot.fake.ephemerals(REP1)[-1].text
        assert "*So far*" in so_far and "3 answers from 3 people (sales 2 · marketing 1)" in so_far

        team_id = await team(bot)
        bot.clock.advance(days=settings.discuss_window_days)
        assert await run_recaps(bot.handoff, team_id, bot.clock.now()) == 1
        assert await run_recaps(bot.handoff, team_id, bot.clock.now()) == 0  # once
        await run_job(bot.handoff, job("discussion_recaps"), bot.clock.now())
        await bot.flush()
        replies = bot.fake.thread(PARTNERSHIP, prompt.ts)
        assert len(replies) == 4
        recap = visible_text(replies[-1].blocks)
        assert recap.startswith("*Recap*")
        assert "3 answers from 3 people (sales 2 · marketing 1)" in recap
        # most agreed first; the anonymous one stays anonymous, the attributed one is credited
        assert recap.index("Nobody told me") < recap.index("The case study")
        assert "— anonymous · +3" in recap and f"— <@{MARKETER}> · +1" in recap
        assert "Speed: we called" not in recap  # no +1, not among the most agreed
        assert REP2 not in recap
        await bot.slack.command(MARKETER, "/discuss", "recap")
        assert "*Recap*" in bot.fake.ephemerals(MARKETER)[-1].text

        # the digest can include it
        from bot.services.discussions import recap_summary

        async with bot.handoff.uow() as uow:
            summary = await recap_summary(uow, team_id, since=bot.clock.now() - timedelta(days=7))
            assert summary is not None and "3 answers" in summary
            assert await recap_summary(uow, team_id, since=bot.clock.now() + timedelta(seconds=1)) is None


# --------------------------------------------------------------------------- the bank


async def test_question_bank_is_seeded_and_managed_by_admins(bot: RunningBot) -> None:
    await bot.slack.command(REP1, "/discuss", "questions list")
    listing = bot.fake.ephemerals(REP1)[-1].text
    assert f"*Question bank* ({len(seed_questions())})" in listing and 18 <= len(seed_questions()) <= 25
    await bot.slack.command(REP1, "/discuss", "questions add What should we stop doing?")
    assert "Only Handoff admins" in bot.fake.ephemerals(REP1)[-1].text
    await bot.slack.command(ADMIN, "/discuss", "questions add What should we stop doing together?")
    added = bot.fake.ephemerals(ADMIN)[-1].text
    assert added.startswith("Added question #")
    qid = added.split("#", 1)[1].split(":", 1)[0]
    await bot.slack.command(ADMIN, "/discuss", "questions add what should we STOP doing together?")
    assert "already in the bank" in bot.fake.ephemerals(ADMIN)[-1].text
    await bot.slack.command(ADMIN, "/discuss", "questions add hi")
    assert "10 to 500 characters" in bot.fake.ephemerals(ADMIN)[-1].text
    await bot.slack.command(ADMIN, "/discuss", f"questions remove #{qid}")
    assert bot.fake.ephemerals(ADMIN)[-1].text.startswith(f"Removed question #{qid}")
    await bot.slack.command(ADMIN, "/discuss", "questions remove #99999")
    assert "no question #99999" in bot.fake.ephemerals(ADMIN)[-1].text
    await bot.slack.command(REP1, "/discuss", "questions list")
    assert "stop doing together" not in bot.fake.ephemerals(REP1)[-1].text


async def test_discuss_without_a_partnership_channel_in_a_dm_explains(
    engine: AsyncEngine, fake_slack: FakeSlack, clock: FrozenClock, database_url: str
) -> None:
    settings = make_settings(database_url, fake_slack, partnership_channel=None)
    async with serve_bot(engine, fake_slack, clock, settings) as bot:
        await bot.slack.command(REP1, "/discuss")
        assert "no partnership channel" in bot.fake.ephemerals(REP1)[-1].text
        assert await run_scheduled_prompts(bot.handoff, await team(bot), MONDAY_10) == 0


async def add_sla_breaches(bot: RunningBot, count: int, *, at: datetime) -> None:
    team_id = await team(bot)
    async with bot.handoff.uow() as uow:
        for i in range(count):
            lead = Lead(
                team_id=team_id,
                dedupe_key=f"sla-{at.isoformat()}-{i}",
                email=f"sla{i}@example.com",
                status="new",
                fields={},
                created_at=at,
                updated_at=at,
            )
            uow.session.add(lead)
            await uow.session.flush()
            kind = EventKind.SLA_REMINDER if i % 2 else EventKind.SLA_VERDICT_NUDGE
            uow.session.add(
                LeadEvent(
                    team_id=team_id, lead_id=lead.id, kind=kind.value, origin="scheduler", created_at=at
                )
            )
            # not a breach: escalations follow reminders and are not counted twice
            uow.session.add(
                LeadEvent(
                    team_id=team_id,
                    lead_id=lead.id,
                    kind=EventKind.SLA_ESCALATED.value,
                    origin="scheduler",
                    created_at=at,
                )
            )


async def test_rising_sla_breaches_and_a_target_behind_pace_come_from_the_database(bot: RunningBot) -> None:
    from bot.services.discussions import week_aggregates
    from bot.storage.models import Target

    now = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
    bot.clock.set(now)
    team_id = await team(bot)
    await add_sla_breaches(bot, 6, at=now - timedelta(days=2))
    await add_sla_breaches(bot, 2, at=now - timedelta(days=9))
    await add_verdicts(bot, "webinar", accepted=10, rejected={}, at=now - timedelta(days=5))
    async with bot.handoff.uow() as uow:
        for metric, value, period_start in (
            ("leads_accepted", 100, date(2026, 3, 1)),
            ("leads_accepted", 5, date(2026, 2, 1)),  # last month's: not this week's business
        ):
            uow.session.add(
                Target(
                    team_id=team_id,
                    metric=metric,
                    period_kind="month",
                    period_start=period_start,
                    segment="",
                    value=value,
                    created_at=now,
                    updated_at=now,
                )
            )
    async with bot.handoff.open_context(team_id, now=now) as ctx:
        agg = await week_aggregates(ctx, now)
    assert (agg.sla_breaches, agg.sla_breaches_previous) == (6, 2)
    [pace] = agg.targets
    assert (pace.metric.key, pace.period_label, pace.target, pace.actual) == (
        "leads_accepted",
        "March 2026",
        100,
        10,
    )
    assert 0.6 < pace.elapsed < 0.63

    await start(bot)
    text = visible_text(prompts(bot)[-1].blocks)
    assert "Follow-up deadlines were missed 6 times this week, up from 2 the week before" in text
    # leads going cold now rank first; the next discussion moves on rather than repeating it
    await start(bot)
    text = visible_text(prompts(bot)[-1].blocks)
    assert "Leads accepted (SQL): 10 of 100 for March 2026 with 63% of it gone — behind pace" in text


async def test_replies_wait_for_the_prompt_to_be_posted(bot: RunningBot) -> None:
    bot.fake.fail("chat.postMessage", kind="server_error", times=1)
    team_id = await team(bot)
    await bot.slack.command(ADMIN, "/discuss", "Which follow-up email worked best this month?")
    await bot.flush()
    assert prompts(bot) == []  # the post failed and waits for its retry (about a second)
    async with bot.handoff.uow() as uow:  # close the window early, before the retry is due
        from sqlalchemy import update

        from bot.storage.models import DiscussionPrompt

        await uow.session.execute(update(DiscussionPrompt).values(closes_at=bot.clock.now()))
    assert await run_recaps(bot.handoff, team_id, bot.clock.now()) == 1
    await bot.flush()
    assert bot.fake.messages(PARTNERSHIP, include_threads=True) == []  # the recap waits for its parent
    async with bot.handoff.uow() as uow:
        [waiting] = [r for r in await uow.session.scalars(select(Outbox)) if r.purpose == "discussion_thread"]
        assert (waiting.status, waiting.last_error, waiting.attempts) == (
            "pending",
            "waiting for the prompt",
            0,
        )
    bot.clock.advance(minutes=5)
    await bot.flush()
    [prompt] = prompts(bot)
    [recap] = bot.fake.thread(PARTNERSHIP, prompt.ts)
    assert "No answers this time" in visible_text(recap.blocks)


async def test_an_emptied_bank_skips_the_slot_and_tells_admins_once(bot: RunningBot) -> None:
    team_id = await team(bot)
    await bot.slack.command(ADMIN, "/discuss", "questions list")
    async with bot.handoff.uow() as uow:
        from sqlalchemy import update

        from bot.storage.models import Question

        await uow.session.execute(update(Question).values(active=False))
    await bot.slack.command(REP1, "/discuss")
    assert "question bank is empty" in bot.fake.ephemerals(REP1)[-1].text
    for minutes in (0, 1, 2):
        bot.clock.set(MONDAY_10 + timedelta(minutes=minutes))
        assert await run_scheduled_prompts(bot.handoff, team_id, bot.clock.now()) == 0
    await bot.flush()
    assert prompts(bot) == []
    [alert] = bot.fake.dms(ADMIN)
    assert "question bank is empty" in alert.text
