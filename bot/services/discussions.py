"""Partnership discussions: the question bank, starting a prompt (from the week's facts or the
bank), answers (attributed or anonymous), +1 votes, recaps, and the scheduled jobs."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml
from apscheduler.triggers.cron import CronTrigger

from bot import messages
from bot.domain.errors import HandoffError, InvalidInput, NotAllowed, NotFound
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
    parse_holidays,
    schedule_trigger,
)
from bot.ids import BlockId
from bot.jobs import Job, register_job
from bot.services.context import Ctx
from bot.slack import notifier as purposes
from bot.slack.blocks.discussion import (
    MAX_ANSWER_CHARS,
    TOP_ANSWERS,
    Recap,
    TopAnswer,
    prompt_message,
    recap_message,
    recap_text,
)
from bot.slack.notifier import Notifier
from bot.storage.discussions import ANSWER_TABLE, PROMPT_TABLE, DiscussionStore
from bot.storage.models import DiscussionAnswer, DiscussionPrompt, Question
from bot.storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.app import Handoff

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
MAX_QUESTION_CHARS = 500
SCHEDULES_KEY = "discuss_schedules"  # workspace_setting: {channel_id: "mon 10:00" | "off"}
THRESHOLDS_KEY = "discuss_thresholds"  # workspace_setting: overrides of Thresholds fields
HOLIDAYS_KEY = "holidays"  # workspace_setting: ["2026-12-25", ...], added to HANDOFF_HOLIDAYS
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
    store = DiscussionStore(ctx.uow.session)
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
    return await DiscussionStore(ctx.uow.session).active_questions(ctx.team_id)


def _require_admin(ctx: Ctx, user_id: str) -> None:
    if not ctx.is_admin(user_id):
        admins = ctx.settings.admins
        raise NotAllowed(
            messages.ADMINS_ONLY.format(admins=", ".join(f"<@{a}>" for a in admins))
            if admins
            else messages.NO_ADMINS
        )


def _clean_question(text: str) -> str:
    text = " ".join((text or "").split())
    if not 10 <= len(text) <= MAX_QUESTION_CHARS:
        raise InvalidInput({"question": messages.DISCUSS_QUESTION_LENGTH.format(limit=MAX_QUESTION_CHARS)})
    return text


async def add_question(ctx: Ctx, text: str, *, by: str) -> Question:
    _require_admin(ctx, by)
    text = _clean_question(text)
    for existing in await list_questions(ctx):
        if existing.text.casefold() == text.casefold():
            raise InvalidInput({"question": messages.DISCUSS_QUESTION_EXISTS.format(id=existing.id)})
    return await DiscussionStore(ctx.uow.session).add_question(
        Question(
            team_id=ctx.team_id, text=text, active=True, times_asked=0, created_by=by, created_at=ctx.now
        )
    )


async def remove_question(ctx: Ctx, ref: str, *, by: str) -> Question:
    """Retire a question (kept for past prompts' history, never asked again)."""
    _require_admin(ctx, by)
    match = re.fullmatch(r"#?(\d+)", (ref or "").strip())
    store = DiscussionStore(ctx.uow.session)
    question = await store.question(ctx.team_id, int(match[1])) if match else None
    if question is None or not question.active:
        raise NotFound(messages.DISCUSS_QUESTION_UNKNOWN.format(ref=ref.strip() or "(none)"))
    question.active = False
    await ctx.uow.session.flush()
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
    return Thresholds.from_mapping({**base, **(overrides if isinstance(overrides, dict) else {})})


def _period_bounds(kind: str, start: date) -> tuple[date, str]:
    months = 3 if kind == "quarter" else 1
    month = start.month - 1 + months
    end = date(start.year + month // 12, month % 12 + 1, 1)
    label = f"Q{(start.month - 1) // 3 + 1}" if kind == "quarter" else start.strftime("%B")
    return end, label


async def week_aggregates(ctx: Ctx, now: datetime) -> WeekAggregates:
    store = DiscussionStore(ctx.uow.session)
    start = now - WEEK
    groups, reasons = await store.week_verdicts(ctx.team_id, start, now)
    tz = ctx.settings.tz
    targets: list[TargetPace] = []
    seen: set[str] = set()
    for row in await store.current_targets(ctx.team_id, now.astimezone(tz).date()):
        end_day, label = _period_bounds(row.period_kind, row.period_start)
        period_start = datetime.combine(row.period_start, time(), tz).astimezone(UTC)
        period_end = datetime.combine(end_day, time(), tz).astimezone(UTC)
        if row.metric in seen or not period_start <= now < period_end:
            continue
        seen.add(row.metric)
        actual = await store.metric_value(ctx.team_id, row.metric, period_start, now)
        elapsed = (now - period_start) / (period_end - period_start)
        targets.append(
            TargetPace(
                metric=row.metric,
                label=row.label,
                period_label=label,
                target=row.value,
                actual=actual,
                elapsed=elapsed,
            )
        )
    return WeekAggregates(
        groups=groups,
        sla_breaches=await store.sla_breaches(ctx.team_id, start, now),
        sla_breaches_previous=await store.sla_breaches(ctx.team_id, start - WEEK, start),
        rejection_reasons=reasons,
        targets=targets,
    )


async def notable_facts(ctx: Ctx, now: datetime, *, channel_id: str | None = None) -> list[Fact]:
    store = DiscussionStore(ctx.uow.session)
    last = await store.latest_prompt(ctx.team_id, channel_id=channel_id)
    # the fact discussed last time is not repeated straight away, even if still true
    skip = [last.fact["key"]] if last is not None and last.fact and last.fact.get("key") else []
    labels = await ctx.uow.settings.get(ctx.team_id, "reject_reasons")
    return detect_facts(
        await week_aggregates(ctx, now),
        await thresholds(ctx),
        labels=labels if isinstance(labels, dict) else None,
        skip_keys=skip,
    )


# --------------------------------------------------------------------------- prompts


async def _next_bank_question(ctx: Ctx) -> Question:
    store = DiscussionStore(ctx.uow.session)
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
    prompt = await DiscussionStore(ctx.uow.session).add_prompt(
        DiscussionPrompt(
            team_id=ctx.team_id,
            channel_id=channel_id,
            question_id=question_id,
            text=text,
            fact=fact.to_json() if fact else None,
            started_by=started_by,
            opened_at=ctx.now,
            closes_at=ctx.now + timedelta(days=ctx.settings.discuss_window_days),
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
        purpose=purposes.DISCUSSION_PROMPT,
        ref_table=PROMPT_TABLE,
        ref_id=prompt.id,
    )
    return prompt


async def open_prompt(ctx: Ctx, prompt_id: int) -> DiscussionPrompt:
    """The prompt someone wants to answer; refuses closed ones."""
    prompt = await DiscussionStore(ctx.uow.session).prompt(ctx.team_id, prompt_id)
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
    answer = await DiscussionStore(ctx.uow.session).add_answer(
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
    await ctx.uow.outbox.add(
        team_id=ctx.team_id,
        method="chat.postMessage",
        channel_id=prompt.channel_id,
        payload={"render": "discussion_answer"},  # rendered at send time with the current count
        purpose=purposes.DISCUSSION_ANSWER,
        ref_table=ANSWER_TABLE,
        ref_id=answer.id,
        at=ctx.now,
    )
    return answer


async def toggle_vote(ctx: Ctx, answer_id: int, *, user_id: str) -> tuple[bool, int]:
    """+1, or take it back. Returns (voted now, count)."""
    store = DiscussionStore(ctx.uow.session)
    answer = await store.answer(ctx.team_id, answer_id)
    prompt = await store.prompt(ctx.team_id, answer.prompt_id) if answer is not None else None
    if answer is None or prompt is None:
        raise NotFound(messages.DISCUSS_NOT_FOUND)
    voted = await store.toggle_vote(team_id=ctx.team_id, answer_id=answer.id, user_id=user_id, at=ctx.now)
    await ctx.uow.outbox.add(
        team_id=ctx.team_id,
        method="chat.update",
        channel_id=prompt.channel_id,
        payload={"render": "discussion_answer"},
        purpose=purposes.DISCUSSION_ANSWER_UPDATE,
        ref_table=ANSWER_TABLE,
        ref_id=answer.id,
        at=ctx.now,
    )
    return voted, await store.vote_count(answer.id)


# --------------------------------------------------------------------------- recaps


async def build_recap(store: DiscussionStore, prompt: DiscussionPrompt, *, closed: bool) -> Recap:
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
    store = DiscussionStore(ctx.uow.session)
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
            purpose=purposes.DISCUSSION_THREAD,
            ref_table=PROMPT_TABLE,
            ref_id=prompt.id,
        )
        posted += 1
    return posted


async def last_recap(ctx: Ctx) -> str:
    """`/discuss recap`: the last discussion's summary (so far, if it is still open)."""
    store = DiscussionStore(ctx.uow.session)
    prompt = await store.latest_prompt(ctx.team_id)
    if prompt is None:
        return messages.DISCUSS_NO_PROMPT
    closed = prompt.recapped_at is not None or ctx.now >= prompt.closes_at
    return recap_text(await build_recap(store, prompt, closed=closed))


async def recap_summary(uow: UnitOfWork, team_id: str, since: datetime) -> str | None:
    """For the weekly digest: the recap (mrkdwn) of the latest discussion closed since `since`."""
    store = DiscussionStore(uow.session)
    prompt = await store.latest_recapped(team_id, since=since)
    if prompt is None:
        return None
    return recap_text(await build_recap(store, prompt, closed=True))


# --------------------------------------------------------------------------- schedules


async def schedules(ctx: Ctx) -> dict[str, str]:
    """{channel: schedule}: the partnership channel on HANDOFF_DISCUSS_CRON, with admins'
    per-channel overrides ("off" removes one)."""
    result: dict[str, str] = {}
    default_channel = await ctx.channel_setting("partnership_channel")
    if default_channel:
        result[default_channel] = ctx.settings.discuss_cron
    overrides = await ctx.uow.settings.get(ctx.team_id, SCHEDULES_KEY, {}) or {}
    if isinstance(overrides, dict):
        result.update({str(k): str(v) for k, v in overrides.items()})
    return {channel: spec for channel, spec in result.items() if spec and spec != "off"}


async def set_schedule(ctx: Ctx, channel_id: str, spec: str, *, by: str) -> str:
    _require_admin(ctx, by)
    spec = " ".join(spec.split()).lower()
    if spec != "off":
        try:
            schedule_trigger(spec, ctx.settings.tz)
        except ValueError as exc:
            raise InvalidInput({"schedule": str(exc)}) from None
    overrides = dict(await ctx.uow.settings.get(ctx.team_id, SCHEDULES_KEY, {}) or {})
    overrides[channel_id] = spec
    await ctx.uow.settings.set(ctx.team_id, SCHEDULES_KEY, overrides, by=by, at=ctx.now)
    return spec


async def holidays(ctx: Ctx) -> list[date]:
    extra = await ctx.uow.settings.get(ctx.team_id, HOLIDAYS_KEY, []) or []
    return [*ctx.settings.holidays, *parse_holidays(extra if isinstance(extra, list) else [])]


@asynccontextmanager
async def job_context(handoff: Handoff, team_id: str, now: datetime) -> AsyncIterator[Ctx]:
    """A transaction whose notion of now is the job's slot time, not the wall clock."""
    async with UnitOfWork(handoff.session_factory) as uow:
        notifier = Notifier(uow.outbox, now=now, admins=handoff.settings.admins)
        yield Ctx(uow=uow, notifier=notifier, settings=handoff.settings, team_id=team_id)
    handoff.sender.wake()


async def run_scheduled_prompts(handoff: Handoff, team_id: str, now: datetime) -> int:
    """Post each channel's prompt when its schedule is due: once per slot across instances,
    never on a holiday (a date in the workspace's time zone)."""
    tz = handoff.settings.tz
    async with job_context(handoff, team_id, now) as ctx:
        plan = await schedules(ctx)
        days_off = await holidays(ctx)
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
            async with job_context(handoff, team_id, now) as ctx:
                # claim and prompt commit together: a crash before the commit frees the slot
                if not await _claim(ctx, handoff, slot, now):
                    continue
                await start_discussion(ctx, channel_id=channel_id)
                posted += 1
        except HandoffError as exc:
            # nothing to ask (an emptied bank): say so once, not at every tick of the slot
            async with job_context(handoff, team_id, now) as ctx:
                if await _claim(ctx, handoff, slot, now):
                    log.warning("no scheduled prompt for %s: %s", channel_id, exc)
                    await ctx.notifier.alert_admins(team_id, str(exc))
    return posted


async def _claim(ctx: Ctx, handoff: Handoff, slot: str, now: datetime) -> bool:
    return await ctx.uow.slots.claim(
        team_id=ctx.team_id, job=PROMPT_JOB, slot=slot, instance=handoff.instance_id, at=now
    )


async def run_recaps(handoff: Handoff, team_id: str, now: datetime) -> int:
    async with job_context(handoff, team_id, now) as ctx:
        return await close_due(ctx)


def _every_minutes(minutes: str) -> Any:
    return lambda handoff: CronTrigger(minute=minutes, timezone=handoff.settings.tz)


# The prompt job ticks every minute and asks each channel's schedule whether it is due, so
# per-channel schedules set from Slack apply without restarting the scheduler.
register_job(Job("discussion_prompts", _every_minutes("*"), run_scheduled_prompts))
register_job(Job("discussion_recaps", _every_minutes("*/5"), run_recaps))
