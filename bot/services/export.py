"""Exports of leads, feedback (sales' verdicts) and targets, as CSV or JSON, streamed in batches.

The leads export starts with the columns `handoff import` reads (our own field names), so an
export can be imported again; the columns after them describe what happened to each lead.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.domain.reasons import reason_label
from bot.domain.spreadsheet_cells import neutralise
from bot.domain.targets import scope_label
from bot.services.targets import evaluate_targets
from bot.storage.sqlite_driver import slow_query
from bot.storage.uow import UnitOfWork


class ExportKind(StrEnum):
    LEADS = "leads"
    FEEDBACK = "feedback"
    TARGETS = "targets"


# what `handoff import` reads back, in this order (the intake's CSV mapping uses these names;
# `fields`, the lead's free fields, is a JSON object in a CSV cell)
LEAD_IMPORT_COLUMNS = (
    "email", "external_id", "name", "company", "title", "phone",
    "source", "campaign", "score", "region", "segment", "notes", "fields",
)  # fmt: skip
# what happened to each lead: `handoff import` ignores every one of these (csv_headers.STATE_COLUMNS)
LEAD_HISTORY_COLUMNS = (
    "handoff_id", "status", "owner_id", "channel_id", "quality", "reject_reason", "won_amount", "currency",
    "created_at", "claimed_at", "verdict_at", "accepted_at", "rejected_at", "meeting_at", "won_at", "lost_at",
)  # fmt: skip
FEEDBACK_COLUMNS = (
    "handoff_id", "email", "name", "company", "source", "campaign", "segment", "owner_id", "verdict",
    "quality", "reject_reason", "reject_reason_label", "comment", "reject_detail", "created_at",
    "claimed_at", "verdict_at",
)  # fmt: skip
TARGET_COLUMNS = (
    "period_kind", "period_start", "period", "metric", "metric_label", "scope", "target", "actual",
    "percent_of_target", "pace", "elapsed", "set_by", "updated_at",
)  # fmt: skip
COLUMNS = {
    ExportKind.LEADS: LEAD_IMPORT_COLUMNS + LEAD_HISTORY_COLUMNS + ("routing",),
    ExportKind.FEEDBACK: FEEDBACK_COLUMNS,
    ExportKind.TARGETS: TARGET_COLUMNS,
}
BATCH = 1000


def _cell(value: Any) -> Any:
    # amounts stay Decimal (numbers, never quoted in CSV; strings in JSON)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_default(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _csv_cell(value: Any) -> Any:
    """A lead's free fields as one JSON cell (what the importer's `fields` column reads); text a
    spreadsheet would run as a formula gets a leading quote (bot/domain/spreadsheet_cells.py)."""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else None
    if isinstance(value, str):
        return neutralise(value)
    return value


def since_utc(since: date | None, tz: ZoneInfo) -> datetime | None:
    """--since is a local date: from midnight of that day in the workspace's time zone."""
    if since is None:
        return None
    return datetime(since.year, since.month, since.day, tzinfo=tz)


async def _lead_rows(uow: UnitOfWork, team_id: str, since: datetime | None) -> AsyncIterator[dict[str, Any]]:
    async for lead, routing in uow.reports.leads_created_routed(team_id, since, batch=BATCH):
        row = {c: getattr(lead, c) for c in LEAD_IMPORT_COLUMNS}
        row.update({c: getattr(lead, c) for c in LEAD_HISTORY_COLUMNS if c != "handoff_id"})
        row["handoff_id"] = lead.id
        row["routing"] = routing  # the stored decision's why: an object in JSON, a JSON cell in CSV
        yield row


async def _feedback_rows(
    uow: UnitOfWork, team_id: str, since: datetime | None
) -> AsyncIterator[dict[str, Any]]:
    labels = await uow.settings.reason_labels(team_id)
    async for lead in uow.reports.leads_with_verdict(team_id, since, batch=BATCH):
        yield {
            "handoff_id": lead.id,
            "email": lead.email,
            "name": lead.name,
            "company": lead.company,
            "source": lead.source,
            "campaign": lead.campaign,
            "segment": lead.segment,
            "owner_id": lead.owner_id,
            "verdict": "accepted" if lead.accepted_at else "rejected" if lead.rejected_at else "",
            "quality": lead.quality,
            "reject_reason": lead.reject_reason,
            "reject_reason_label": reason_label(lead.reject_reason, labels) if lead.reject_reason else None,
            "comment": lead.verdict_comment,
            "reject_detail": lead.reject_detail,
            "created_at": lead.created_at,
            "claimed_at": lead.claimed_at,
            "verdict_at": lead.verdict_at,
        }


async def _target_rows(
    uow: UnitOfWork, team_id: str, since: date | None, now: datetime, tz: ZoneInfo
) -> AsyncIterator[dict[str, Any]]:
    targets = await uow.targets.since(team_id, None)
    lines = await evaluate_targets(uow, team_id, targets, now, tz)
    for target, line in zip(targets, lines, strict=True):
        if since is not None and line.period.end <= since:
            continue  # the period ended before the asked start
        yield {
            "period_kind": target.period_kind,
            "period_start": target.period_start,
            "period": line.period.label,
            "metric": target.metric,
            "metric_label": line.metric.label,
            "scope": scope_label(target.segment),
            "target": target.value,
            "actual": line.value,
            "percent_of_target": None if line.percent is None else round(line.percent, 1),
            "pace": line.pace.value,
            "elapsed": round(line.elapsed, 4),
            "set_by": target.set_by,
            "updated_at": target.updated_at,
        }


async def export_rows(
    uow: UnitOfWork, team_id: str, kind: ExportKind, *, since: date | None, now: datetime, tz: ZoneInfo
) -> AsyncIterator[dict[str, Any]]:
    if kind is ExportKind.LEADS:
        source = _lead_rows(uow, team_id, since_utc(since, tz))
    elif kind is ExportKind.FEEDBACK:
        source = _feedback_rows(uow, team_id, since_utc(since, tz))
    else:
        source = _target_rows(uow, team_id, since, now, tz)
    async for row in source:
        yield {c: _cell(row.get(c)) for c in COLUMNS[kind]}


async def write_export(rows: AsyncIterator[dict[str, Any]], kind: ExportKind, fmt: str, out: TextIO) -> int:
    """Write CSV (a header row, then one row per record) or a JSON array; returns the row count."""
    count = 0
    if fmt == "csv":
        # CRLF rows (RFC 4180): csv quotes a cell holding any lineterminator character, and a bare
        # CR left unquoted starts a new row in a spreadsheet, whose first cell could be a formula
        writer = csv.DictWriter(out, fieldnames=list(COLUMNS[kind]), lineterminator="\r\n")
        writer.writeheader()
        async for row in rows:
            writer.writerow({k: _csv_cell(v) for k, v in row.items()})
            count += 1
        return count
    out.write("[")
    async for row in rows:
        out.write(
            ("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False, default=_json_default)
        )
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


@slow_query
async def export_to_string(
    uow: UnitOfWork,
    team_id: str,
    kind: ExportKind,
    fmt: str,
    *,
    since: date | None,
    now: datetime,
    tz: ZoneInfo,
) -> tuple[str, int]:
    buffer = io.StringIO()
    count = await write_export(
        export_rows(uow, team_id, kind, since=since, now=now, tz=tz), kind, fmt, buffer
    )
    return buffer.getvalue(), count
