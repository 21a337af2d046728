"""Partnership discussions: the question bank, starting a prompt (from the week's facts or the
bank), answers (attributed or anonymous), +1 votes, recaps, and the scheduled jobs."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml
from apscheduler.triggers.cron import CronTrigger

from bot import messages
from bot.domain.errors import HandoffError, InvalidInput, NotFound
from bot.domain.outbox import Purpose
from bot.domain.periods import Window
from bot.domain.prompts import (
    BankQuestion,
    Fact,
    TargetPace,
    Thresholds,
    WeekAggregates,
    choose_question,
    detect_facts,
    due_fire_time,
    is_holiday,
    schedule_trigger,
)
from bot.domain.webhooks import EventType
from bot.ids import BlockId
from bot.services import insights, webhooks
from bot.services.business_calendar import load_calendar
from bot.services.context import Ctx
from bot.services.targets import current_lines
from bot.slack.blocks.discussion import (
    MAX_ANSWER_CHARS,
    TOP_ANSWERS,
    Recap,
    TopAnswer,
    prompt_message,
    recap_message,
    recap_text,
)
from bot.storage.discussions import ANSWER_TABLE, PROMPT_TABLE, DiscussionRepo
from bot.storage.models import DiscussionAnswer, DiscussionPrompt, Question
from bot.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
MAX_QUESTION_CHARS = 500
SCHEDULES_KEY = "discuss_schedules"  # workspace_setting: {channel_id: "mon 10:00" | "off"}
THRESHOLDS_KEY = "discuss_thresholds"  # workspace_setting: overrides of Thresholds fields
PROMPT_JOB = "discussion_prompt"
# a bot that was down when a prompt was due still posts it if back within this long
SCHEDULE_GRACE = timedelta(hours=3)


class DiscussionClosed(HandoffError):
    def __init__(self) -> None:
        super().__init__(messages.DISCUSS_CLOSED)


# --------------------------------------------------------------------------- the question bank


@lru_cache(maxsize=1)
def seed_questions() -> tuple[tuple[str, str | None], ...]:
    raw = resources.files("bot").joinpath("data/questions.yaml").read_text(encoding="utf-8")
    return tuple((str(item["text"]).strip(), item.get("topic")) for item in yaml.safe_load(raw))


async def ensure_bank(ctx: Ctx) -> None:
    """Seed the workspace's bank the first time it is used (once, even with several instances)."""
    store = ctx.uow.discussions
    if await store.question_count(ctx.team_id):
        return
    claimed = await ctx.uow.slots.claim(
        team_id=ctx.team_id, job="seed_questions", slot="v1", instance="seed", at=ctx.now
    )
    if not claimed:
        return
    for text, topic in seed_questions():
        await store.add_question(
            Question(
                team_id=ctx.team_id, text=text, topic=topic, active=True, times_asked=0, created_at=ctx.now
            )
        )


async def list_questions(ctx: Ctx) -> list[Question]:
    await ensure_bank(ctx)
    return await ctx.uow.discussions.active_questions(ctx.team_id)


def _clean_question(text: str) -> str:
    text = " ".join((text or "").split())
    if not 10 <= len(text) <= MAX_QUESTION_CHARS:
        raise InvalidInput({"question": messages.DISCUSS_QUESTION_LENGTH.format(limit=MAX_QUESTION_CHARS)})
    return text


async def add_question(ctx: Ctx, text: str, *, by: str) -> Question:
    await ctx.require_admin(by)
    text = _clean_question(text)
    for existing in await list_questions(ctx):
        if existing.text.casefold() == text.casefold():
            raise InvalidInput({"question": messages.DISCUSS_QUESTION_EXISTS.format(id=existing.id)})
    return await ctx.uow.discussions.add_question(
        Question(
            team_id=ctx.team_id, text=text, active=True, times_asked=0, created_by=by, created_at=ctx.now
        )
    )


async def remove_question(ctx: Ctx, ref: str, *, by: str) -> Question:
    """Retire a question (kept for past prompts' history, never asked again)."""
    await ctx.require_admin(by)
    match = re.fullmatch(r"#?(\d+)", (ref or "").strip())
    store = ctx.uow.discussions
    question = await store.question(ctx.team_id, int(match[1])) if match else None
    if question is None or not question.active:
        raise NotFound(messages.DISCUSS_QUESTION_UNKNOWN.format(ref=ref.strip() or "(none)"))
    question.active = False
    await ctx.uow.flush()
    return question


# --------------------------------------------------------------------------- the week's facts


async def thresholds(ctx: Ctx) -> Thresholds:
    s = ctx.settings
    base = {
        "min_acceptance": s.discuss_min_acceptance,
        "min_sample": s.discuss_min_sample,
        "reason_share": s.discuss_reason_share,
    }
    overrides = await ctx.uow.settings.get(ctx.team_id, THRESHOLDS_KEY, {}) or {}
    # each threshold set from Slack's Settings (its own row, named as the environment variable's field)
    own = await ctx.uow.settings.overrides(ctx.team_id, [f"discuss_{name}" for name in base])
    mine = {key.removeprefix("discuss_"): row.value for key, row in own.items() if row.value is not None}
    return Thresholds.from_mapping({**base, **(overrides if isinstance(overrides, dict) else {}), **mine})


async def week_aggregates(ctx: Ctx, now: datetime) -> WeekAggregates:
    store = ctx.uow.discussions
    start = now - WEEK
    groups, reasons = await store.week_verdicts(ctx.team_id, start, now)
    # whole-team targets only (the conversation is between the two teams), one per metric: the
    # month's when there are both, as the scoreboard lists it first
    targets: dict[str, TargetPace] = {}
    for line in await current_lines(ctx.uow, ctx.team_id, now, await ctx.tz()):
        if line.scope == "" and line.metric.key not in targets:
            targets[line.metric.key] = TargetPace(
                metric=line.metric,
                period_label=line.period.label,
                target=line.target,
                actual=line.value,
                elapsed=line.elapsed,
            )
    this_week = await ctx.uow.reports.sla_breaches(ctx.team_id, start, now)
    last_week = await ctx.uow.reports.sla_breaches(ctx.team_id, start - WEEK, start)
    return WeekAggregates(
        groups=groups,
        sla_breaches=sum(this_week.values()),
        sla_breaches_previous=sum(last_week.values()),
        rejection_reasons=reasons,
        targets=list(targets.values()),
        insight_tags=dict((await insights.week_tags(ctx.uow, ctx.team_id, now, limit=10))[1]),
    )


async def notable_facts(ctx: Ctx, now: datetime, *, channel_id: str | None = None) -> list[Fact]:
    store = ctx.uow.discussions
    last = await store.latest_prompt(ctx.team_id, channel_id=channel_id)
    # the fact discussed last time is not repeated straight away, even if still true
    skip = [last.fact["key"]] if last is not None and last.fact and last.fact.get("key") else []
    return detect_facts(
        await week_aggregates(ctx, now),
        await thresholds(ctx),
        labels=await ctx.uow.settings.reason_labels(ctx.team_id),
        skip_keys=skip,
    )


# --------------------------------------------------------------------------- prompts


async def _next_bank_question(ctx: Ctx) -> Question:
    store = ctx.uow.discussions
    questions = await list_questions(ctx)
    last = await store.latest_prompt(ctx.team_id)
    choice = choose_question(
        [BankQuestion(q.id, q.text, q.last_asked_at, q.times_asked) for q in questions],
        last_id=last.question_id if last is not None else None,
    )
    if choice is None:
        raise HandoffError(messages.DISCUSS_EMPTY_BANK)
    question = next(q for q in questions if q.id == choice.id)
    question.last_asked_at = ctx.now
    question.times_asked += 1
    return question


async def start_discussion(
    ctx: Ctx, *, channel_id: str, question: str | None = None, started_by: str | None = None
) -> DiscussionPrompt:
    """Post a prompt now: the person's own question; else the week's most notable fact with its
    question to both teams; else the bank's next question."""
    fact: Fact | None = None
    question_id: int | None = None
    if question:
        text = _clean_question(question)
    else:
        facts = await notable_facts(ctx, ctx.now, channel_id=channel_id)
        if facts:
            fact = facts[0]
            text = fact.question
        else:
            bank = await _next_bank_question(ctx)
            text, question_id = bank.text, bank.id
    prompt = await ctx.uow.discussions.add_prompt(
        DiscussionPrompt(
            team_id=ctx.team_id,
            channel_id=channel_id,
            question_id=question_id,
            text=text,
            fact=fact.to_json() if fact else None,
            started_by=started_by,
            opened_at=ctx.now,
            closes_at=ctx.now + timedelta(days=await window_days(ctx)),
        )
    )
    fallback, blocks = prompt_message(
        prompt_id=prompt.id, question=text, fact=fact.sentence if fact else None, closes_at=prompt.closes_at
    )
    await ctx.notifier.post(
        ctx.team_id,
        channel_id,
        fallback,
        blocks,
        purpose=Purpose.DISCUSSION_PROMPT,
        ref_table=PROMPT_TABLE,
        ref_id=prompt.id,
    )
    return prompt


async def open_prompt(ctx: Ctx, prompt_id: int) -> DiscussionPrompt:
    """The prompt someone wants to answer; refuses closed ones."""
    prompt = await ctx.uow.discussions.prompt(ctx.team_id, prompt_id)
    if prompt is None:
        raise NotFound(messages.DISCUSS_NOT_FOUND)
    if ctx.now >= prompt.closes_at or prompt.recapped_at is not None:
        raise DiscussionClosed()
    return prompt


# --------------------------------------------------------------------------- answers and votes


async def submit_answer(
    ctx: Ctx, prompt_id: int, *, user_id: str, side: str | None, text: str | None, anonymous: bool
) -> DiscussionAnswer:
    body = (text or "").strip()
    if not body:
        raise InvalidInput({BlockId.ANSWER.value: messages.DISCUSS_ANSWER_EMPTY})
    if len(body) > MAX_ANSWER_CHARS:
        raise InvalidInput(
            {BlockId.ANSWER.value: messages.DISCUSS_ANSWER_TOO_LONG.format(limit=MAX_ANSWER_CHARS)}
        )
    prompt = await open_prompt(ctx, prompt_id)
    answer = await ctx.uow.discussions.add_answer(
        DiscussionAnswer(
            team_id=ctx.team_id,
            prompt_id=prompt.id,
            # anonymous: the person is not stored at all, only their team for participation
            user_id=None if anonymous else user_id,
            side=side,
            anonymous=anonymous,
            text=body,
            created_at=ctx.now,
        )
    )
    await ctx.notifier.render_at_send(  # rendered at send time with the current count
        ctx.team_id,
        prompt.channel_id,
        purpose=Purpose.DISCUSSION_ANSWER,
        ref_table=ANSWER_TABLE,
        ref_id=answer.id,
    )
    return answer


async def toggle_vote(ctx: Ctx, answer_id: int, *, user_id: str) -> tuple[bool, int]:
    """+1, or take it back. Returns (voted now, count)."""
    store = ctx.uow.discussions
    answer = await store.answer(ctx.team_id, answer_id)
    prompt = await store.prompt(ctx.team_id, answer.prompt_id) if answer is not None else None
    if answer is None or prompt is None:
        raise NotFound(messages.DISCUSS_NOT_FOUND)
    voted = await store.toggle_vote(team_id=ctx.team_id, answer_id=answer.id, user_id=user_id, at=ctx.now)
    await ctx.notifier.render_at_send(
        ctx.team_id,
        prompt.channel_id,
        purpose=Purpose.DISCUSSION_ANSWER_UPDATE,
        ref_table=ANSWER_TABLE,
        ref_id=answer.id,
        edit=True,
    )
    return voted, await store.vote_count(answer.id)


# --------------------------------------------------------------------------- recaps


async def build_recap(store: DiscussionRepo, prompt: DiscussionPrompt, *, closed: bool) -> Recap:
    rows = await store.answers_with_votes(prompt.team_id, prompt.id)
    people: dict[str, set[str]] = {"sales": set(), "marketing": set(), "unknown": set()}
    for row in rows:
        side = row.answer.side if row.answer.side in ("sales", "marketing") else "unknown"
        # an anonymous answer counts as one participant: who wrote it is not known, by design
        people[side].add(row.answer.user_id or f"anonymous:{row.answer.id}")
    top = sorted((r for r in rows if r.votes > 0), key=lambda r: (-r.votes, r.answer.id))[:TOP_ANSWERS]
    return Recap(
        question=prompt.text,
        answers=len(rows),
        participants={side: len(users) for side, users in people.items()},
        top=[
            TopAnswer(
                text=r.answer.text,
                votes=r.votes,
                author_id=None if r.answer.anonymous else r.answer.user_id,
            )
            for r in top
        ],
        closed=closed,
    )


async def close_due(ctx: Ctx) -> int:
    """Post the recap in the thread of every prompt whose window has closed; once each."""
    store = ctx.uow.discussions
    posted = 0
    for prompt_id in await store.due_for_recap(ctx.team_id, ctx.now):
        if not await store.mark_recapped(ctx.team_id, prompt_id, ctx.now):
            continue  # another instance has it
        prompt = await store.prompt(ctx.team_id, prompt_id)
        assert prompt is not None
        text, blocks = recap_message(await build_recap(store, prompt, closed=True))
        await ctx.notifier.post(
            ctx.team_id,
            prompt.channel_id,
            text,
            blocks,
            purpose=Purpose.DISCUSSION_THREAD,
            ref_table=PROMPT_TABLE,
            ref_id=prompt.id,
        )
        await webhooks.emit(ctx, EventType.DISCUSSION_RECAP_POSTED, data=recap_data(prompt, text))
        posted += 1
    return posted


def recap_data(prompt: DiscussionPrompt, text: str) -> dict[str, object]:
    """What `discussion.recap_posted` carries: the prompt and the recap's text."""
    return {
        "prompt_id": prompt.id,
        "channel_id": prompt.channel_id,
        "question": prompt.text,
        "opened_at": prompt.opened_at.isoformat(),
        "closes_at": prompt.closes_at.isoformat(),
        "recap": text,
    }


async def last_recap(ctx: Ctx) -> str:
    """`/discuss recap`: the last discussion's summary (so far, if it is still open)."""
    store = ctx.uow.discussions
    prompt = await store.latest_prompt(ctx.team_id)
    if prompt is None:
        return messages.DISCUSS_NO_PROMPT
    closed = prompt.recapped_at is not None or ctx.now >= prompt.closes_at
    return recap_text(await build_recap(store, prompt, closed=closed))


async def recap_summary(uow: UnitOfWork, team_id: str, since: datetime) -> str | None:
    """For the weekly digest: the recap (mrkdwn) of the latest discussion closed since `since`."""
    store = uow.discussions
    prompt = await store.latest_recapped(team_id, since=since)
    if prompt is None:
        return None
    return recap_text(await build_recap(store, prompt, closed=True))


async def digest_recap(uow: UnitOfWork, team_id: str, week: Window) -> str | None:
    """The weekly digest's section: the recap of the week's latest closed discussion, if any."""
    return await recap_summary(uow, team_id, since=week.start)


# --------------------------------------------------------------------------- schedules


async def schedules(ctx: Ctx) -> dict[str, str]:
    """{channel: schedule}: the partnership channel on HANDOFF_DISCUSS_CRON, with admins'
    per-channel overrides ("off" removes one)."""
    result: dict[str, str] = {}
    default_channel = await ctx.channel_setting("partnership_channel")
    if default_channel:
        result[default_channel] = str(
            await ctx.uow.settings.get(ctx.team_id, "discuss_cron", None) or ctx.settings.discuss_cron
        )
    result.update(await channel_overrides(ctx))
    return {channel: spec for channel, spec in result.items() if spec and spec != "off"}


async def channel_overrides(ctx: Ctx) -> dict[str, str]:
    """{channel: schedule or "off"}: what admins set per channel (Settings or `/discuss schedule`;
    changed through services/workspace_settings.py, which keeps the audit log)."""
    overrides = await ctx.uow.settings.get(ctx.team_id, SCHEDULES_KEY, {}) or {}
    return {str(k): str(v) for k, v in overrides.items()} if isinstance(overrides, dict) else {}


async def window_days(ctx: Ctx) -> int:
    """How long a prompt stays open: set in Slack (Settings), else HANDOFF_DISCUSS_WINDOW_DAYS."""
    value = await ctx.uow.settings.get(ctx.team_id, "discuss_window_days", None)
    return value if isinstance(value, int) and 1 <= value <= 30 else ctx.settings.discuss_window_days


async def holidays(ctx: Ctx) -> frozenset[date]:
    """The days the SLA clocks stop for (HANDOFF_HOLIDAYS, or the workspace's `holidays` setting)."""
    return (await load_calendar(ctx.uow, ctx.settings, ctx.team_id)).holidays


async def run_scheduled_prompts(handoff: Runtime, team_id: str, now: datetime) -> int:
    """Post each channel's prompt when its schedule is due: once per slot across instances,
    never on a holiday (a date in the workspace's time zone)."""
    async with handoff.open_context(team_id, now=now) as ctx:
        plan = await schedules(ctx)
        days_off = await holidays(ctx)
        tz = await ctx.tz()  # the workspace's (Home → Settings), else HANDOFF_TIMEZONE
    posted = 0
    for channel_id, spec in plan.items():
        try:
            trigger = schedule_trigger(spec, tz)
        except ValueError:
            log.warning("ignoring the unusable schedule %r for %s", spec, channel_id)
            continue
        fire = due_fire_time(trigger, now, grace=SCHEDULE_GRACE)
        if fire is None or is_holiday(fire, days_off, tz):
            continue
        slot = f"{channel_id}:{fire.isoformat()}"
        try:
            async with handoff.open_context(team_id, now=now) as ctx:
                # claim and prompt commit together: a crash before the commit frees the slot
                if not await _claim(ctx, handoff, slot, now):
                    continue
                await start_discussion(ctx, channel_id=channel_id)
                posted += 1
        except HandoffError as exc:
            # nothing to ask (an emptied bank): say so once, not at every tick of the slot
            async with handoff.open_context(team_id, now=now) as ctx:
                if await _claim(ctx, handoff, slot, now):
                    log.warning("no scheduled prompt for %s: %s", channel_id, exc)
                    await ctx.notifier.alert_admins(team_id, str(exc))
    return posted


async def _claim(ctx: Ctx, handoff: Runtime, slot: str, now: datetime) -> bool:
    return await ctx.uow.slots.claim(
        team_id=ctx.team_id, job=PROMPT_JOB, slot=slot, instance=handoff.instance_id, at=now
    )


async def run_recaps(handoff: Runtime, team_id: str, now: datetime) -> int:
    async with handoff.open_context(team_id, now=now) as ctx:
        return await close_due(ctx)


def every_minute(handoff: Runtime) -> CronTrigger:
    # the prompt job ticks every minute and asks each channel's schedule whether it is due, so
    # per-channel schedules set from Slack apply without restarting the scheduler
    return CronTrigger(minute="*", timezone=handoff.settings.tz)


def every_five_minutes(handoff: Runtime) -> CronTrigger:
    return CronTrigger(minute="*/5", timezone=handoff.settings.tz)
