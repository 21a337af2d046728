"""The raw-driver floor for bench.ack: the SQL statements Handoff's Claim and `/lead <text>` quick add
execute (captured from SQLAlchemy's cursor events, see docs/benchmarks.md), run through the bare
driver — sqlite3 on the event loop (as Handoff runs SQLite) or asyncpg with its prepared-statement
cache — with no ORM, no unit of work and no services in the way.

A Claim is two transactions, as Handoff's: the lead read (for the membership check), then the
compare-and-set `UPDATE … RETURNING`, the lead event, the card's outbox row and the webhook
endpoints lookup. A quick add is one: the hot-score and sales-channel settings, the enabled routing
rules, the away reps, the dedupe lookup, the lead `INSERT … RETURNING`, its card's outbox row, its
event and the webhook endpoints lookup.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bot.domain.quick_add import parse_quick_add

LEAD_COLUMNS = (
    "id, team_id, dedupe_key, external_id, email, name, company, title, phone, source, campaign, score, "
    "region, segment, notes, fields, submitted_by, intake_channel, priority, batch_id, line_ts, posted_at, "
    "status, owner_id, assignee_id, rule_id, route_reason, channel_id, message_ts, quality, verdict_comment, "
    "reject_reason, reject_detail, quality_key, nurture, won_amount, currency, lost_reason, created_at, "
    "updated_at, claimed_at, verdict_at, accepted_at, rejected_at, contacted_at, meeting_at, opportunity_at, "
    "won_at, lost_at, stage_changed_at, sla_check_at"
)
RULE_COLUMNS = (
    "id, team_id, name, priority, enabled, regions, segments, sources, campaigns, email_domains, score_min, "
    "score_max, channel_id, reps, rr_cursor, hot_usergroup, hot_score, mode, manager_id, sla_remind_minutes, "
    "sla_escalate_minutes, sla_escalation, sla_verdict_hours, sla_stage_days, created_at"
)
ENDPOINT_COLUMNS = (
    "id, team_id, url, secret, events, created_by, created_at, failing_since, disabled_at, last_error"
)

# the statements in `?` form; asyncpg gets them with $n placeholders (numbered below)
GET_LEAD = f"SELECT {LEAD_COLUMNS} FROM lead WHERE lead.team_id = ? AND lead.id = ?"
CLAIM = (
    "UPDATE lead SET status=?, owner_id=?, updated_at=?, claimed_at=?, sla_check_at=? "
    f"WHERE lead.team_id = ? AND lead.id = ? AND lead.status IN (?) RETURNING {LEAD_COLUMNS}"
)
EVENT = (
    "INSERT INTO lead_event (team_id, lead_id, kind, actor_id, origin, data, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
OUTBOX = (
    "INSERT INTO outbox (team_id, method, channel_id, payload, purpose, lead_id, status, lane, rank_at, "
    "attempts, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
ENDPOINTS = f"SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoint WHERE webhook_endpoint.team_id = ? ORDER BY id"
SETTING = "SELECT value FROM workspace_setting WHERE team_id = ? AND key = ?"
RULES = f"SELECT {RULE_COLUMNS} FROM routing_rule WHERE team_id = ? AND enabled = ? ORDER BY priority, id"
AWAY = "SELECT user_id FROM member WHERE team_id = ? AND away = ?"
BY_KEY = f"SELECT {LEAD_COLUMNS} FROM lead WHERE lead.team_id = ? AND lead.dedupe_key IN (?)"
NEW_LEAD = (
    "INSERT INTO lead (team_id, dedupe_key, external_id, email, name, company, title, phone, source, "
    "campaign, score, region, segment, notes, fields, submitted_by, intake_channel, priority, batch_id, "
    "posted_at, status, assignee_id, rule_id, route_reason, channel_id, nurture, created_at, updated_at, "
    f"sla_check_at) VALUES ({', '.join(['?'] * 29)}) RETURNING {LEAD_COLUMNS}"
)
JSON_PARAMS = {EVENT: {5}, OUTBOX: {3}, NEW_LEAD: {14}}  # positions cast to json on PostgreSQL


def numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …` (json parameters cast, as SQLAlchemy does)."""
    out, n = [], 0
    json_at = JSON_PARAMS.get(sql, set())
    for part in sql.split("?")[:-1]:
        out.append(part + f"${n + 1}" + ("::json" if n in json_at else ""))
        n += 1
    return "".join(out) + sql.split("?")[-1]


def _sqlite_time(at: datetime) -> str:
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


class Floor:
    """What a Claim and a quick add cost through the bare driver."""

    def __init__(self, url: str, sales_channel: str) -> None:
        self.url = url
        self.sales_channel = sales_channel
        self.sqlite: sqlite3.Connection | None = None
        self.pool: Any = None

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            path = self.url.split(":///", 1)[1]
            conn = sqlite3.connect(path, isolation_level=None, timeout=30, cached_statements=128)
            for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL", "busy_timeout=30000"):
                conn.execute(f"PRAGMA {pragma}")
            self.sqlite = conn
        else:
            import asyncpg

            dsn = "postgresql://" + self.url.split("://", 1)[1]
            self.pool = await asyncpg.create_pool(dsn, min_size=10, max_size=20)

    async def close(self) -> None:
        if self.sqlite is not None:
            self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()

    # ------------------------------------------------------------------ the two decisions

    async def claim(self, team_id: str, lead_id: int, user_id: str) -> bool:
        now = datetime.now(UTC)
        event = [team_id, lead_id, "claimed", user_id, "slack", json.dumps({}), now]
        outbox = [team_id, "chat.update", self.sales_channel, json.dumps({"render": "lead_card"}),
                  "lead_card_update", lead_id, "pending", 1, now, 0, now, now]  # fmt: skip
        update = ["claimed", user_id, now, now, now, team_id, lead_id, "new"]
        if self.sqlite is not None:
            db = self.sqlite
            with _transaction(db):
                db.execute(GET_LEAD, (team_id, lead_id)).fetchone()
            with _transaction(db):
                won = db.execute(CLAIM, _sq(update)).fetchone()
                if won is not None:
                    db.execute(EVENT, _sq(event))
                    db.execute(OUTBOX, _sq(outbox))
                    db.execute(ENDPOINTS, (team_id,)).fetchall()
            return won is not None
        async with self.pool.acquire() as conn:
            async with conn.transaction():
                await conn.fetchrow(numbered(GET_LEAD), team_id, lead_id)
            async with conn.transaction():
                won = await conn.fetchrow(numbered(CLAIM), *update)
                if won is not None:
                    await conn.execute(numbered(EVENT), *event)
                    await conn.execute(numbered(OUTBOX), *outbox)
                    await conn.fetch(numbered(ENDPOINTS), team_id)
            return won is not None

    async def quick_add(self, team_id: str, text: str, user_id: str) -> str:
        fields = parse_quick_add(text)
        now = datetime.now(UTC)
        email = fields["email"].lower()
        key = f"email:{email}|{fields.get('source') or ''}"
        lead = [team_id, key, None, email, fields.get("name"), fields.get("company"), None, None,
                fields.get("source"), fields.get("campaign"), None, None, None, None, json.dumps({}),
                user_id, "slack", None, None, None, "new", None, None, "default sales channel",
                self.sales_channel, False, now, now, now]  # fmt: skip

        def rest(lead_id: int) -> tuple[list[Any], list[Any]]:
            outbox = [team_id, "chat.postMessage", self.sales_channel, json.dumps({"render": "lead_card"}),
                      "lead_card", lead_id, "pending", 3, now, 0, now, now]  # fmt: skip
            data = json.dumps({"rule": None, "channel": self.sales_channel})
            return outbox, [team_id, lead_id, "created", user_id, "slack", data, now]

        if self.sqlite is not None:
            db = self.sqlite
            with _transaction(db):
                return self._quick_add_sqlite(db, team_id, key, lead, rest)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.fetchrow(numbered(SETTING), team_id, "hot_score")
            await conn.fetch(numbered(RULES), team_id, True)
            await conn.fetchrow(numbered(SETTING), team_id, "sales_channel")
            await conn.fetch(numbered(AWAY), team_id, True)
            await conn.fetch(numbered(BY_KEY), team_id, key)
            row = await conn.fetchrow(numbered(NEW_LEAD), *lead)
            outbox, event = rest(row[0])
            await conn.execute(numbered(OUTBOX), *outbox)
            await conn.execute(numbered(EVENT), *event)
            await conn.fetch(numbered(ENDPOINTS), team_id)
            return str(row[0])

    @staticmethod
    def _quick_add_sqlite(db: sqlite3.Connection, team_id: str, key: str, lead: list[Any], rest: Any) -> str:
        db.execute(SETTING, (team_id, "hot_score")).fetchone()
        db.execute(RULES, (team_id, 1)).fetchall()
        db.execute(SETTING, (team_id, "sales_channel")).fetchone()
        db.execute(AWAY, (team_id, 1)).fetchall()
        db.execute(BY_KEY, (team_id, key)).fetchall()
        row = db.execute(NEW_LEAD, _sq(lead)).fetchone()
        outbox, event = rest(row[0])
        db.execute(OUTBOX, _sq(outbox))
        db.execute(EVENT, _sq(event))
        db.execute(ENDPOINTS, (team_id,)).fetchall()
        return str(row[0])


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")  # as Handoff begins every SQLite transaction
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _sq(params: list[Any]) -> list[Any]:
    return [_sqlite_time(p) if isinstance(p, datetime) else p for p in params]
