"""Scheduled work. Each instance runs its own in-memory APScheduler (job stores must never be
shared); a job claims its (job, slot) row first, so only one instance does each slot's work.
Every job is listed in JOBS below; features define what a run does, nothing registers itself."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import messages
from bot.observability import metrics
from bot.services import availability, backlog, digest, discussions, followups, retention, signals, sla
from bot.services.slots import claim_slot

if TYPE_CHECKING:
    from bot.services.runtime import Runtime

log = logging.getLogger(__name__)

JobFunc = Callable[["Runtime", str, datetime], Awaitable[Any]]


@dataclass(frozen=True)
class Job:
    """`run(handoff, team_id, now)` does one team's work for the slot that `now` falls in."""

    name: str
    trigger: Callable[[Runtime], BaseTrigger]
    run: JobFunc
    # jobs with a period are claimed per (team, slot) by run_job itself; others claim inside run()
    every: timedelta | None = None
    # scheduled runs only: is this team's slot now? (`/handoff run` runs the job regardless)
    due: Callable[[Runtime, str, datetime], Awaitable[bool]] | None = None


async def purge_processed_keys(handoff: Runtime, team_id: str, now: datetime) -> int:
    async with handoff.uow() as uow:
        return await uow.keys.purge_expired(now)


def every_hour(handoff: Runtime) -> BaseTrigger:
    return IntervalTrigger(hours=1, timezone=handoff.settings.tz)


def every_sla_tick(handoff: Runtime) -> BaseTrigger:
    return IntervalTrigger(seconds=sla.EVERY.total_seconds(), timezone=handoff.settings.tz)


def weekly_digest_job(sections: digest.Sections, *, hourly: bool = False) -> Job:
    """At the environment's day and hour; `hourly`: the same digest for workspaces whose admins
    moved it (both runs share the week's slot, so it is posted once)."""
    if hourly:
        return Job(
            digest.JOB_NAME + "_own_time",
            digest.own_time_trigger,
            partial(digest.run_weekly_digest, sections=sections),
            due=digest.due_now,
        )
    return Job(
        digest.JOB_NAME,
        digest.weekly_trigger,
        partial(digest.run_weekly_digest, sections=sections),
        due=digest.due_now,
    )


# What other features add to the weekly digest (the digest itself knows none of them).
DIGEST_SECTIONS: list[tuple[str, digest.DigestSection]] = [
    (messages.DISCUSS_DIGEST_TITLE, discussions.digest_recap),
    (messages.RETENTION_DIGEST_TITLE, retention.digest_section),
]

# Every scheduled job, in one place (as bot/handlers/__init__.py lists the listeners).
JOBS: list[Job] = [
    Job("purge_processed_keys", every_hour, purge_processed_keys, every=timedelta(hours=1)),
    weekly_digest_job(DIGEST_SECTIONS),
    weekly_digest_job(DIGEST_SECTIONS, hourly=True),
    Job(sla.JOB_NAME, every_sla_tick, sla.run_sla),
    Job("discussion_prompts", discussions.every_minute, discussions.run_scheduled_prompts),
    Job("discussion_recaps", discussions.every_five_minutes, discussions.run_recaps),
    Job(backlog.JOB_NAME, every_sla_tick, backlog.check_backlog, every=backlog.EVERY),
    # once per follow-up row (a compare-and-set on sent_at), not per slot: a late instance catches up
    Job(followups.JOB_NAME, followups.every_minute, followups.run_followups),
    # the day's held customer signals, one DM per owner; once per signal row (compare-and-set)
    Job(signals.JOB_NAME, signals.every_quarter_hour, signals.run_batches),
    # reps' Slack time zones and statuses for routing (working hours, out of office), cached
    Job(
        availability.JOB_NAME,
        availability.every_quarter_hour,
        availability.refresh_profiles,
        every=availability.EVERY,
    ),
]


def slot_key(when: datetime, every: timedelta) -> str:
    """The slot a time falls in, for a job that runs every `every` (UTC-aligned)."""
    step = int(every.total_seconds())
    return str(int(when.timestamp()) // step * step)


async def run_job(
    handoff: Runtime,
    job: Job,
    now: datetime | None = None,
    *,
    teams: Sequence[str] | None = None,
    scheduled: bool = False,
) -> dict[str, bool]:
    """Run a job for every workspace (or only `teams`: `/handoff run` is one workspace's admin
    acting for that workspace); errors in one team do not stop the others.
    Returns {team_id: whether this instance did that team's work for the slot}."""
    now = now or handoff.clock.now()
    ran: dict[str, bool] = {}
    with metrics.timed(metrics.job_seconds, job.name):
        for team_id in await handoff.team_ids() if teams is None else teams:
            try:
                if scheduled and job.due is not None and not await job.due(handoff, team_id, now):
                    ran[team_id] = False  # not this workspace's time (its own schedule)
                    continue
                if job.every is not None and not await claim_slot(
                    handoff, team_id=team_id, job=job.name, slot=slot_key(now, job.every)
                ):
                    ran[team_id] = False  # another instance has this slot
                    metrics.job_runs.labels(job.name, "skipped").inc()
                    continue
                await job.run(handoff, team_id, now)
                ran[team_id] = True
                metrics.job_runs.labels(job.name, "ran").inc()
            except Exception:
                log.exception("job %s failed for %s", job.name, team_id)
                ran[team_id] = False
                metrics.job_runs.labels(job.name, "failed").inc()
    handoff.wake_sender()
    return ran


def find_job(name: str) -> Job | None:
    return next((job for job in JOBS if job.name == name), None)


def build_scheduler(handoff: Runtime) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone=handoff.settings.tz)
    for job in JOBS:
        scheduler.add_job(
            run_job,
            job.trigger(handoff),
            args=[handoff, job],
            kwargs={"scheduled": True},
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
        )
    return scheduler
