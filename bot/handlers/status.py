"""`/handoff status` (admins): is the outbox keeping up? Queue depth, oldest pending, failures; is
the SLA pass keeping up? Leads due a reminder, escalation or nudge, the oldest overdue;
`/handoff status retry` puts the failed deliveries back in the queue."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot import __version__, messages
from bot.handlers.router import CommandRequest, CommandRouter
from bot.ids import Command
from bot.services import backlog as outbox_backlog
from bot.services import deliveries, sla
from bot.services.workspaces import Uninstalled
from bot.slack.mrkdwn import escape, truncate


def register(app: AsyncApp, routers: dict[Command, CommandRouter]) -> None:
    routers[Command.HANDOFF].sub("status")(status_command)
    routers[Command.HANDOFF].sub("run")(run_command)


async def status_command(req: CommandRequest) -> None:
    await req.require_admin()
    action = req.args.strip().lower()
    if action == "retry":
        await retry_failed(req)
        return
    if action:
        await req.ack(text=messages.DELIVERY_STATUS_USAGE)
        return
    now = req.handoff.clock.now()
    async with req.handoff.uow() as uow:
        stats = await uow.outbox.stats(req.team_id)
        backlog = await sla.backlog(uow, req.team_id, now)
        channels = await outbox_backlog.channel_backlogs(uow, req.team_id, req.handoff.settings.channel_rate)
        hooks = await uow.webhooks.deliveries(req.team_id)
    gone = await req.handoff.uninstalled_workspaces()
    text = status_text(stats, now=now, backlog=backlog, uninstalled=gone)
    if channels:
        rate = req.handoff.settings.channel_rate
        lines = [outbox_backlog.backlog_line(item, rate) for item in channels[:10]]
        text += "\n" + "\n".join([messages.STATUS_CHANNELS.format(rate=f"{rate:g}"), *lines])
    mode = "socket" if req.handoff.settings.socket_mode else "http"
    instance = messages.STATUS_INSTANCE.format(
        instance=escape(req.handoff.instance_id), version=__version__, mode=mode
    )
    text += webhook_log(hooks, now=now)
    await req.ack(text=text + "\n" + instance)


async def retry_failed(req: CommandRequest) -> None:
    """`/handoff status retry`: the deliveries Handoff gave up on go back in the queue (e.g. once
    the channel is fixed); the commit wakes the sender, so they go out right away."""
    async with req.handoff.open_context(req.team_id) as ctx:
        count = await deliveries.retry_failed(ctx)
    await req.ack(
        text=messages.STATUS_RETRIED.format(count=count) if count else messages.STATUS_NOTHING_TO_RETRY
    )


async def run_command(req: CommandRequest) -> None:
    """`/handoff run <job>`: run a scheduled job now for the current period, unless that period's
    run already happened (on any instance) — e.g. to catch up after downtime."""
    await req.require_admin()
    from bot.jobs import JOBS, find_job, run_job

    job = find_job(req.args.strip())
    if job is None:
        names = ", ".join(f"`{j.name}`" for j in JOBS)
        await req.ack(text=messages.RUN_UNKNOWN_JOB.format(job=escape(req.args.strip()), jobs=names))
        return
    await req.ack()
    ran = await run_job(req.handoff, job, teams=[req.team_id])  # this workspace's run only
    done = ran.get(req.team_id)
    text = messages.RUN_DONE if done else messages.RUN_ALREADY
    await req.respond(text=text.format(job=job.name), response_type="ephemeral", replace_original=False)


def status_text(
    stats: dict[str, Any],
    *,
    now: datetime,
    backlog: sla.SlaBacklog | None = None,
    uninstalled: Sequence[Uninstalled] = (),
) -> str:
    """The status report as mrkdwn; Slack's error strings are escaped like any outside text."""
    oldest = stats.get("oldest_created_at")
    lines = [
        messages.STATUS_HEADER,
        messages.STATUS_QUEUE.format(
            depth=stats["depth"],
            oldest=age(now, oldest) if oldest is not None else messages.STATUS_NOTHING_WAITING,
        ),
        messages.STATUS_FAILED.format(failed=stats["failed"]),
    ]
    if backlog is not None:
        lines.append(
            messages.STATUS_SLA_BACKLOG.format(due=backlog.due, oldest=age(now, backlog.oldest))
            if backlog.due and backlog.oldest is not None
            else messages.STATUS_SLA_NOTHING_DUE
        )
    errors = stats.get("last_errors") or []
    if errors:
        lines.append(messages.STATUS_LAST_ERRORS)
        for item in errors:
            when = age(now, item["at"]) if item.get("at") is not None else "?"
            error = escape(truncate(item.get("error") or "", 200))
            lines.append(f"• `{escape(item.get('method') or '')}` {error} ({when} ago)")
    else:
        lines.append(messages.STATUS_NO_ERRORS)
    for gone in uninstalled:
        # only another workspace's admin (or this one's after reinstalling) can read this line
        lines.append(messages.STATUS_UNINSTALLED.format(team=escape(gone.team_id), why=gone.why, at=gone.at))
    return "\n".join(lines)


def webhook_log(hooks: Sequence[dict[str, Any]], *, now: datetime) -> str:
    """The latest outbound-event deliveries, newest first ("" when there are none)."""
    if not hooks:
        return ""
    lines = ["", messages.STATUS_WEBHOOKS]
    for item in hooks:
        error = f" — {escape(truncate(str(item['error']), 120))}" if item.get("error") else ""
        lines.append(
            f"• `{escape(str(item['type']))}` event {item['event_id']} → endpoint #{item['endpoint_id']}: "
            f"{item['status']} after {item['attempts']} attempt(s){error} ({age(now, item['at'])} ago)"
        )
    return "\n".join(lines)


def age(now: datetime, then: datetime) -> str:
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    seconds = max(0, int((now - then).total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{seconds // 60} min"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} days"
