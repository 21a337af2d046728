"""SLA clocks in practice: find leads whose reminder, escalation or nudge is due, and fire each
exactly once per lead, status and clock start — across restarts and several instances.

Once-only comes from a schedule_slot row (job = the step, slot = lead + status + clock start)
inserted in the SAME transaction as the outbox rows and the SLA event; the lead row is read again
(and locked on PostgreSQL) inside that transaction, so a lead that moved on gets nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.domain.events import EventKind
from bot.domain.lead import OPEN_FOR_OWNER, Status
from bot.domain.sla import (
    BusinessCalendar,
    CalendarError,
    Deadline,
    Escalation,
    SlaClock,
    Step,
    Thresholds,
    deadlines,
    due_steps,
    next_action,
    sla_clock,
    slot_of,
)
from bot.domain.views import OpenLead
from bot.observability import metrics
from bot.services import routing as routing_service
from bot.services import webhooks
from bot.services.business_calendar import load_calendar, workspace_value
from bot.services.context import Ctx
from bot.services.offers import hand_on, on_offer
from bot.slack.blocks import sla_notes
from bot.storage.models import Lead, RoutingRule
from bot.storage.sqlite_driver import background_writes
from bot.storage.uow import Conflict, UnitOfWork

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

JOB_NAME = "sla"
EVERY = timedelta(minutes=1)
BATCH = 200  # leads leased and judged per pass: about what one pass can fire within its budget
CHUNK = 20  # steps fired per transaction
READ = 50  # leads leased per transaction
DUTY = 0.5  # share of its time a pass spends firing steps; it rests the remainder
PASS_BUDGET = 2.0  # seconds of firing per pass, then the pass writes back and ends
RUN_BUDGET = 40.0  # seconds a run keeps passing while a backlog remains (less than EVERY)
PAUSE = 0.02  # seconds between passes, for requests and the outbox sender
JUDGE_BETWEEN_YIELDS = 25  # leads judged between two turns of the event loop
LEASE = timedelta(minutes=2)  # a pass's hold on its leads; a crashed instance's come back after it
RETRY = timedelta(minutes=1)  # a step that failed to fire is tried again after this
POLICY_KEY = "sla_policy_fingerprint"  # workspace_setting: the thresholds the stored deadlines follow
REWIND = 200  # at most, leads rewound per transaction after a policy change
REWIND_MIN = 20  # at least (progress however slow the database)
REWIND_HOLD = 0.010  # seconds of the loop's CPU a chunk aims at: on SQLite it holds the loop throughout


# -- the workspace's calendar and thresholds ------------------------------------------------


@dataclass(frozen=True)
class SlaPolicy:
    """Everything needed to judge a lead's SLA clock in one workspace."""

    calendar: BusinessCalendar
    defaults: Thresholds
    rules: dict[int, RoutingRule]

    def thresholds(self, lead: Lead) -> Thresholds:
        rule = self.rule(lead)
        return self.defaults if rule is None else self.thresholds_for_rule(rule)

    def thresholds_for_rule(self, rule: RoutingRule) -> Thresholds:
        return Thresholds.of(
            self.defaults,
            remind_minutes=rule.sla_remind_minutes,
            escalate_minutes=rule.sla_escalate_minutes,
            verdict_hours=rule.sla_verdict_hours,
            stage_days=rule.sla_stage_days,
            # the rule's own mode, "manager" included; None: the workspace's (Home → Settings)
            escalation=rule.escalation_mode,
        )

    def rule(self, lead: Lead) -> RoutingRule | None:
        return self.rules.get(lead.rule_id) if lead.rule_id is not None else None

    def clock(self, lead: Lead, now: datetime) -> SlaClock | None:
        return sla_clock(lead, self.thresholds(lead), self.calendar, now)

    def open_lead(self, lead: Lead, now: datetime) -> OpenLead:
        """The lead as its owner sees it, on App Home and in `/lead mine` alike."""
        return OpenLead(lead, next_action(lead), self.clock(lead, now))


async def _escalation(uow: UnitOfWork, team_id: str) -> Escalation:
    """The workspace's escalation mode (`sla_escalation`, set from Slack); a rule's own wins."""
    value = await workspace_value(uow, team_id, "sla_escalation", Escalation.MANAGER.value)
    try:
        return Escalation(str(value))
    except ValueError:
        return Escalation.MANAGER


async def load_policy(uow: UnitOfWork, settings: Settings, team_id: str) -> SlaPolicy:
    """The calendar and the SLA thresholds: environment defaults, overridden per workspace by
    workspace_setting rows of the same name, and per routing rule."""
    calendar = await load_calendar(uow, settings, team_id)

    async def number(key: str, default: int) -> int:
        value = await workspace_value(uow, team_id, key, default)
        try:
            return max(1, int(value)) if isinstance(value, int | float | str) else default
        except (TypeError, ValueError):
            return default

    defaults = Thresholds(
        remind=timedelta(minutes=await number("sla_remind_minutes", settings.sla_remind_minutes)),
        escalate=timedelta(minutes=await number("sla_escalate_minutes", settings.sla_escalate_minutes)),
        verdict=timedelta(hours=await number("sla_verdict_hours", settings.sla_verdict_hours)),
        stage_days=await number("sla_stage_days", settings.sla_stage_days),
        escalation=await _escalation(uow, team_id),
    )
    rules = {rule.id: rule for rule in await uow.rules.all(team_id)}
    return SlaPolicy(calendar=calendar, defaults=defaults, rules=rules)


# -- what the owner sees (/lead mine and App Home) -------------------------------------------


async def open_leads_for(ctx: Ctx, user_id: str, *, limit: int = 50) -> list[OpenLead]:
    """The user's open leads, most urgent first, with their next action and SLA clock."""
    policy = await load_policy(ctx.uow, ctx.settings, ctx.team_id)
    leads = await ctx.uow.leads.for_owner(ctx.team_id, user_id, [s.value for s in OPEN_FOR_OWNER], limit)
    rows = [policy.open_lead(lead, ctx.now) for lead in leads]
    far = datetime.max.replace(tzinfo=ctx.now.tzinfo)
    return sorted(rows, key=lambda r: r.clock.deadline if r.clock else far)


# -- the job --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaPass:
    judged: int  # leads whose clock was looked at
    fired: int  # steps this instance fired
    more: bool  # stopped at the count or time bound: work remains, run again soon


@dataclass(frozen=True)
class _Judged:
    lead_id: int
    status: str
    slot: str
    due: list[Deadline]
    next_at: datetime | None  # the next deadline after now; None: no step can come


def _judge(lead: Lead, policy: SlaPolicy, now: datetime) -> _Judged:
    try:
        found = deadlines(lead, policy.thresholds(lead), policy.calendar)
    except CalendarError:  # no working time ahead at all: look again later, do not spin
        log.warning("lead %s: no SLA deadline in the calendar", lead.id)
        return _Judged(lead.id, lead.status, slot_of(lead.id, lead), [], now + timedelta(days=1))
    return _Judged(
        lead_id=lead.id,
        status=lead.status,
        slot=slot_of(lead.id, lead),
        due=[d for d in found if d.at <= now],
        next_at=min((d.at for d in found if d.at > now), default=None),
    )


def policy_fingerprint(policy: SlaPolicy) -> str:
    """Changes whenever a threshold or the calendar does (a stored deadline may then be wrong)."""
    cal = policy.calendar
    parts = [
        str(cal.tz), str(cal.start), str(cal.end), sorted(cal.days), sorted(map(str, cal.holidays)),
        repr(policy.defaults),
        sorted((rule_id, repr(policy.thresholds_for_rule(r))) for rule_id, r in policy.rules.items()),
    ]  # fmt: skip
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


async def _policy_changed(uow: UnitOfWork, team_id: str, policy: SlaPolicy, now: datetime) -> str | None:
    """The policy's fingerprint if stored deadlines may follow other thresholds (then every open
    lead must be judged again: `_rewind`), else None."""
    fingerprint = policy_fingerprint(policy)
    seen = await uow.settings.get(team_id, POLICY_KEY)
    if seen == fingerprint:
        return None
    if seen is None:  # none seen: no pass has written a deadline yet, nothing to rewind
        await _record_policy(uow, team_id, fingerprint, now)
        return None
    return fingerprint


async def _record_policy(uow: UnitOfWork, team_id: str, fingerprint: str, now: datetime) -> None:
    try:
        async with uow.savepoint():
            await uow.settings.set(team_id, POLICY_KEY, fingerprint, by=None, at=now)
    except Conflict:  # another instance recorded it first (it judged the same change)
        pass


async def _rewind(handoff: Runtime, team_id: str, fingerprint: str, now: datetime) -> int:
    """Deadlines written under other thresholds may be too late: bring every open lead's check
    time back to `now`, REWIND leads a transaction with a turn of the loop between two (one UPDATE
    of 100k leads held SQLite's only connection and the loop for about a second). The fingerprint
    goes in with the last chunk: after a crash halfway the next pass rewinds the rest (the leads
    done have a check time of at most `now` and are not picked again)."""
    total, limit = 0, REWIND
    while True:
        # a request waiting for the connection takes it between two chunks (on SQLite's single
        # pooled connection the pool would hand it straight back to us without this turn)
        await asyncio.sleep(0)
        began = time.thread_time()
        async with handoff.uow() as uow:
            found = await uow.sla_checks.rewind(team_id, now, limit=limit)
            total += found
            if found < limit:
                await _record_policy(uow, team_id, fingerprint, now)
                break
        held = time.thread_time() - began
        # 200 leads' rows and index entries (and their commit) held SQLite's loop 40-55 ms at 100k
        # open leads, and requests during the rewind saw p99 ~130 ms (bench.jobs): smaller chunks,
        # and a rest as long as each one held the loop, as the firing's duty cycle does
        limit = next_chunk(limit, held)
        await handoff.clock.pause(held * (1 - DUTY) / DUTY)
    log.info("SLA policy of %s changed: %d open leads judged again", team_id, total)
    return total


def next_chunk(limit: int, held: float) -> int:
    """How many leads the next rewind chunk takes, after one of `limit` held the loop `held`
    seconds: about REWIND_HOLD's worth, between REWIND_MIN and REWIND."""
    if held <= 0:
        return REWIND
    return min(REWIND, max(REWIND_MIN, int(limit * REWIND_HOLD / held)))


@dataclass(frozen=True)
class SlaBacklog:
    due: int  # leads due a look now (each has a step due, or moved and waits to be judged)
    oldest: datetime | None  # the most overdue deadline (or move) still waiting


async def backlog(uow: UnitOfWork, team_id: str, now: datetime) -> SlaBacklog:
    """For `/handoff status`: what the SLA passes still have to work off (one index range)."""
    due, oldest = await uow.sla_checks.backlog(team_id, now)
    return SlaBacklog(due=due, oldest=oldest)


async def run_sla(handoff: Runtime, team_id: str, now: datetime, *, budget: float = RUN_BUDGET) -> int:
    """Fire every SLA step that is due and not yet fired, pass after pass while a backlog remains
    (for up to `budget` seconds; the next minute's run goes on); returns how many fired here."""
    started = time.monotonic()
    fired = 0
    while True:
        done = await sla_pass(handoff, team_id, now)
        fired += done.fired
        if not done.more or time.monotonic() - started >= budget:
            return fired
        await asyncio.sleep(PAUSE)  # requests and the sender get the database between passes


@background_writes  # its transactions give way to requests while a checkpoint catches up
async def sla_pass(
    handoff: Runtime, team_id: str, now: datetime, *, batch: int = BATCH, budget: float = PASS_BUDGET
) -> SlaPass:
    """One bounded pass: lease the `batch` leads whose check time has come (the longest waiting
    first), fire their due steps, the most overdue first, for up to `budget` seconds, and write
    back when to look at each lead next. Costs follow the leads due, not the leads open."""
    started = time.monotonic()
    leased_until = now + LEASE
    async with handoff.uow() as uow:
        policy = await load_policy(uow, handoff.settings, team_id)
        changed = await _policy_changed(uow, team_id, policy, now)
        if changed is None:
            leads, done = await _lease(uow, team_id, now, leased_until, min(READ, batch))
    if changed is not None:
        # the whole rewind before the lease: the pass then judges the leads under the new policy;
        # the pass's budget (for firing) starts after it
        await _rewind(handoff, team_id, changed, now)
        started = time.monotonic()
        async with handoff.uow() as uow:
            leads, done = await _lease(uow, team_id, now, leased_until, min(READ, batch))
    got = len(leads)
    while got == READ and len(leads) < batch:
        # the rest in short transactions too (200 rows are ~9 ms on SQLite's only connection, 50
        # about 2): a waiting request takes it between two (the pool would hand it straight back
        # to us without this turn)
        await asyncio.sleep(0)
        async with handoff.uow() as uow:
            more, claimed = await _lease(uow, team_id, now, leased_until, min(READ, batch - len(leads)))
        got = len(more)
        leads += more
        done |= claimed
    judged = []
    for i, lead in enumerate(leads):
        if i and not i % JUDGE_BETWEEN_YIELDS:
            await asyncio.sleep(0)  # the calendar math is CPU: let requests in between
        judged.append(_judge(lead, policy, now))
    todo = sorted(
        (d.at, j.lead_id, d.step, j.slot) for j in judged for d in j.due if (d.step.value, j.slot) not in done
    )
    again: dict[int, datetime] = {}  # leads to look at before their next deadline
    fired, cut, i = 0, False, 0
    while i < len(todo):
        if i and time.monotonic() - started >= budget:  # the first chunk always goes: progress
            cut = True
            for late_at, late_id, _, _ in todo[i:]:  # still due: they keep their place in the queue
                again[late_id] = min(again.get(late_id, late_at), late_at)
            break
        # let a request that waited for the connection take it before our next chunk does (on
        # SQLite's single pooled connection the pool would hand it straight back to us)
        await asyncio.sleep(0)
        chunk = [(lead_id, step, slot) for _, lead_id, step, slot in todo[i : i + CHUNK]]
        try:
            done_here, taken = await _fire_all(handoff, team_id, now, policy, chunk)
            fired += done_here
            i += taken
        except Exception:  # all rolled back: one at a time, so one lead's trouble stays its own
            for lead_id, step, slot in chunk:
                try:
                    fired += (await _fire_all(handoff, team_id, now, policy, [(lead_id, step, slot)]))[0]
                except Exception:  # must not hold back the others' reminders
                    log.exception("SLA %s for lead %s failed", step.value, lead_id)
                    again[lead_id] = min(again.get(lead_id, now + RETRY), now + RETRY)
            i += len(chunk)
    checks = [(j.lead_id, j.status, again.get(j.lead_id, j.next_at)) for j in judged]
    async with handoff.uow() as uow:
        await uow.sla_checks.settle(team_id, leased_until=leased_until, checks=checks)
    return SlaPass(judged=len(leads), fired=fired, more=cut or len(leads) >= batch)


async def _lease(
    uow: UnitOfWork, team_id: str, now: datetime, until: datetime, limit: int
) -> tuple[list[Lead], set[tuple[str, str]]]:
    """Up to `limit` leads due a look, and which of their slots' steps already fired (read for
    every leased lead, due or not, so the judging runs after the commit, off the connection)."""
    leads = await uow.sla_checks.lease(team_id, now=now, until=until, limit=limit)
    done = await uow.slots.claimed(team_id, [s.value for s in Step], [slot_of(le.id, le) for le in leads])
    return leads, done


async def _fire_all(
    handoff: Runtime, team_id: str, now: datetime, policy: SlaPolicy, steps: list[tuple[int, Step, str]]
) -> tuple[int, int]:
    """Fire the first of `steps` in one transaction (fewer commits: the backlog clears faster),
    giving way as soon as a request waits for a database connection; returns (fired, steps taken)."""
    async with handoff.open_context(team_id, now=now) as ctx:
        fired = taken = 0
        for lead_id, step, slot in steps:
            began = time.monotonic()
            fired += await _fire(ctx, handoff.instance_id, policy, lead_id, step, slot)
            taken += 1
            if taken == len(steps) or ctx.uow.others_waiting():
                # on SQLite a request waits for our only connection: commit and let it go first
                # (chunks of 20 kept requests waiting 0.1-0.2 s at 100k open leads, bench.jobs)
                break
            # the duty cycle: after each step, rest as long as it took, so requests get the loop
            # (and the database's CPU) between two steps, not one turn each; SQLite's calls never
            # yield by themselves (bot.storage.sqlite_driver), and a turn of the loop (sleep(0))
            # between steps still left requests p99 2-4x alone during a backlog (bench.jobs)
            await handoff.clock.pause((time.monotonic() - began) * (1 - DUTY) / DUTY)
            if ctx.uow.others_waiting():
                break
        return fired, taken


async def _fire(ctx: Ctx, instance_id: str, policy: SlaPolicy, lead_id: int, step: Step, slot: str) -> bool:
    lead = await ctx.uow.leads.lock(ctx.team_id, lead_id)
    if lead is None:
        return False
    # judged again on the fresh row: a lead that moved on (claimed, released, re-staged) is skipped
    if slot_of(lead.id, lead) != slot or step not in due_steps(
        lead, policy.thresholds(lead), policy.calendar, ctx.now
    ):
        return False
    if not await ctx.uow.slots.claim(
        team_id=ctx.team_id, job=step.value, slot=slot, instance=instance_id, at=ctx.now
    ):
        return False  # another instance (or an earlier run) fired it
    metrics.sla_steps.labels(step.value).inc()
    if step in (Step.REMIND, Step.ESCALATE) and lead.batch_id is not None and lead.message_ts is None:
        # a lead listed in a bulk thread: one note per batch and step, not one per lead (a flood)
        await _nudge_batch(ctx, instance_id, lead, policy, step)
    elif step is Step.REMIND and on_offer(lead, policy.rule(lead)):
        # assign mode: no answer from the rep within the reminder time hands the lead on
        await hand_on(ctx, lead, policy.rule(lead), from_rep=lead.assignee_id or "", why="no answer")
    elif step is Step.REMIND:
        await _remind(ctx, lead, policy)
    elif step is Step.ESCALATE:
        await _escalate(ctx, lead, policy)
    elif step is Step.VERDICT:
        await _nudge_verdict(ctx, lead, policy)
    else:
        await _nudge_stage(ctx, lead, policy)
    return True


async def _event(ctx: Ctx, lead: Lead, kind: EventKind, data: dict[str, object]) -> None:
    await ctx.uow.events.append(
        team_id=ctx.team_id,
        lead_id=lead.id,
        kind=kind,
        actor_id=None,
        origin="scheduler",
        at=ctx.now,
        data=data,
    )
    await webhooks.emit_lead_event(ctx, kind, lead)


async def _on_duty(ctx: Ctx, rule: RoutingRule | None) -> list[str]:
    """The rule's reps who can take a lead now (bot/services/routing.py: not away, out of office,
    on time off, or outside their hours when the rule routes within them)."""
    if rule is None or not rule.reps:
        return []
    return await routing_service.available_reps(ctx, rule)


async def _remind(ctx: Ctx, lead: Lead, policy: SlaPolicy) -> None:
    thresholds = policy.thresholds(lead)
    reps = await _on_duty(ctx, policy.rule(lead))
    if not reps and lead.assignee_id:
        reps = [lead.assignee_id]
    await ctx.notifier.reply_to_lead(lead, sla_notes.reminder(lead, reps=reps, waited=thresholds.remind))
    await _event(
        ctx, lead, EventKind.SLA_REMINDER, {"minutes": _minutes(thresholds.remind), "notified": reps}
    )


BATCH_NUDGE_EVERY = timedelta(hours=1)  # at most one note per batch and step in this time


async def _nudge_batch(ctx: Ctx, instance_id: str, lead: Lead, policy: SlaPolicy, step: Step) -> None:
    """The SLA step of a lead that waits in a bulk batch's thread: its event as for any lead, and
    for the batch one reminder in the summary's thread (or one DM to each manager), at most once
    an hour: "37 leads of Dec webinar are still waiting for a claim"."""
    thresholds = policy.thresholds(lead)
    waited = thresholds.remind if step is Step.REMIND else thresholds.escalate
    kind = EventKind.SLA_REMINDER if step is Step.REMIND else EventKind.SLA_ESCALATED
    await _event(ctx, lead, kind, {"minutes": _minutes(waited), "batch": lead.batch_id})
    hour = int(ctx.now.timestamp() // BATCH_NUDGE_EVERY.total_seconds())
    if not await ctx.uow.slots.claim(
        team_id=ctx.team_id,
        job=f"{step.value}_batch",
        slot=f"batch:{lead.batch_id}:{hour}",
        instance=instance_id,
        at=ctx.now,
    ):
        return
    batch = await ctx.uow.batches.get(ctx.team_id, lead.batch_id or 0)
    if batch is None:
        return
    waiting = (await ctx.uow.batches.counts(batch.id)).get(Status.NEW.value, 0)
    if step is Step.REMIND:
        reps = await _on_duty(ctx, policy.rule(lead))
        await ctx.notifier.reply_to_lead(
            lead, sla_notes.batch_reminder(batch.label, waiting=waiting, reps=reps, waited=waited)
        )
        return
    rule = policy.rule(lead)
    managers = [rule.manager_id] if rule is not None and rule.manager_id else list(ctx.settings.admins)
    for manager in managers:
        await ctx.notifier.dm(
            ctx.team_id,
            manager,
            sla_notes.batch_escalation_dm(batch.label, batch.channel_id, waiting=waiting, waited=waited),
        )


async def _escalate(ctx: Ctx, lead: Lead, policy: SlaPolicy) -> None:
    thresholds = policy.thresholds(lead)
    rule = policy.rule(lead)
    waited = thresholds.escalate
    if thresholds.escalation is Escalation.REASSIGN and rule is not None and rule.reps:
        skip = {lead.assignee_id: "has it now"} if lead.assignee_id else {}
        rep = await routing_service.hand_on_rep(ctx, rule, skip=skip)
        if rep is not None:
            previous = lead.assignee_id
            moved = await ctx.uow.leads.compare_and_set(
                ctx.team_id,
                lead.id,
                expected=[Status.NEW.value],
                values={"assignee_id": rep, "updated_at": ctx.now},
            )
            if moved:
                await ctx.uow.leads.refresh(lead)
                await ctx.notifier.refresh_lead_card(lead)
                await ctx.notifier.reply_to_lead(lead, sla_notes.reassigned(lead, rep=rep, waited=waited))
                await ctx.notifier.dm(ctx.team_id, rep, sla_notes.reassigned_dm(lead, waited=waited))
                await ctx.uow.events.append(
                    team_id=ctx.team_id,
                    lead_id=lead.id,
                    kind=EventKind.REASSIGNED,
                    actor_id=None,
                    origin="scheduler",
                    at=ctx.now,
                    data={"from": previous, "to": rep, "why": "sla"},
                )
                await _event(ctx, lead, EventKind.SLA_ESCALATED, {"mode": "reassign", "to": [rep]})
                return
        # nobody else is on duty: a person has to decide, so fall through to the manager
    managers = (
        [rule.manager_id] if rule is not None and rule.manager_id else list((await ctx.admins()).user_ids)
    )
    for manager in managers:
        await ctx.notifier.dm(ctx.team_id, manager, sla_notes.escalation_dm(lead, waited=waited))
    await ctx.notifier.reply_to_lead(lead, sla_notes.escalated(managers, waited=waited))
    await _event(ctx, lead, EventKind.SLA_ESCALATED, {"mode": "manager", "to": managers})


async def _nudge_verdict(ctx: Ctx, lead: Lead, policy: SlaPolicy) -> None:
    waited = policy.thresholds(lead).verdict
    if lead.owner_id:
        await ctx.notifier.dm(ctx.team_id, lead.owner_id, sla_notes.verdict_nudge(lead, waited=waited))
    await _event(
        ctx, lead, EventKind.SLA_VERDICT_NUDGE, {"hours": _minutes(waited) // 60, "to": lead.owner_id}
    )


async def _nudge_stage(ctx: Ctx, lead: Lead, policy: SlaPolicy) -> None:
    days = policy.thresholds(lead).stage_days
    if lead.owner_id:
        await ctx.notifier.dm(ctx.team_id, lead.owner_id, sla_notes.stage_nudge(lead, days=days))
    await _event(
        ctx, lead, EventKind.SLA_STAGE_NUDGE, {"days": days, "to": lead.owner_id, "status": lead.status}
    )


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
