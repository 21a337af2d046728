"""The raw-driver floor for bench.ack: the SQL statements Handoff's Claim and `/lead <text>` quick add
execute (captured from SQLAlchemy's cursor events, see docs/benchmarks.md), run through the bare
driver — sqlite3 on the event loop (as Handoff runs SQLite) or asyncpg with its prepared-statement
cache — with no ORM, no unit of work and no services in the way.

A Claim is one transaction, as Handoff's when it knows the clicker is in the click's channel: the
compare-and-set `UPDATE … RETURNING` (only a new lead of that channel), then the lead event, the
card's outbox row and the webhook endpoints lookup. A quick add is one: the workspace's settings,
the enabled routing rules, the away reps, the dedupe and recent-email lookups, the accounts with
owners, the lead `INSERT … RETURNING`, its routing decision, its card's outbox row, its event and the
webhook endpoints lookup. On PostgreSQL the INSERTs nothing reads back go in the same statement as
the endpoints lookup (a data-modifying WITH), as Handoff sends them (bot/storage/raw.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
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
CLAIM = (
    "UPDATE lead SET status=?, owner_id=?, updated_at=?, claimed_at=?, sla_check_at=? "
    f"WHERE team_id = ? AND id = ? AND status IN (?) AND channel_id = ? RETURNING {LEAD_COLUMNS}"
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
SETTINGS = "SELECT key, value FROM workspace_setting WHERE team_id = ?"
RULES = f"SELECT {RULE_COLUMNS} FROM routing_rule WHERE team_id = ? AND enabled = ? ORDER BY priority, id"
AWAY = "SELECT user_id FROM member WHERE team_id = ? AND away = ?"
BY_KEY = f"SELECT {LEAD_COLUMNS} FROM lead WHERE team_id = ? AND dedupe_key IN (?)"
RECENT = (
    f"SELECT {LEAD_COLUMNS} FROM lead WHERE team_id = ? AND email IN (?) AND created_at >= ? "
    "ORDER BY created_at DESC, id DESC"
)
ACCOUNTS = "SELECT id, company, domain, owner_id FROM account WHERE team_id = ? AND owner_id IS NOT NULL"
DECISION = (
    "INSERT INTO routing_decision (team_id, lead_id, rule_id, channel_id, assignee_id, method, detail, "
    "capped, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
NEW_LEAD = (
    "INSERT INTO lead (team_id, dedupe_key, external_id, email, name, company, title, phone, source, "
    "campaign, score, region, segment, notes, fields, submitted_by, intake_channel, priority, batch_id, "
    "posted_at, status, assignee_id, rule_id, route_reason, channel_id, nurture, created_at, updated_at, "
    f"sla_check_at) VALUES ({', '.join(['?'] * 29)}) RETURNING {LEAD_COLUMNS}"
)
CLAIM_REST = f"WITH w0 AS ({EVENT}), w1 AS ({OUTBOX}) {ENDPOINTS}"  # PostgreSQL: one round trip
ADD_REST = f"WITH w0 AS ({DECISION}), w1 AS ({OUTBOX}), w2 AS ({EVENT}) {ENDPOINTS}"


def numbered(sql: str) -> str:
    """`?` placeholders as asyncpg's `$1, $2, …`."""
    out = sql.split("?")
    return "".join(part + f"${n + 1}" for n, part in enumerate(out[:-1])) + out[-1]


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
        update = ["claimed", user_id, now, now, now, team_id, lead_id, "new", self.sales_channel]
        if self.sqlite is not None:
            db = self.sqlite
            with _transaction(db):
                won = db.execute(CLAIM, _sq(update)).fetchone()
                if won is not None:
                    db.execute(EVENT, _sq(event))
                    db.execute(OUTBOX, _sq(outbox))
                    db.execute(ENDPOINTS, (team_id,)).fetchall()
            return won is not None
        async with self.pool.acquire() as conn, conn.transaction():
            won = await conn.fetchrow(numbered(CLAIM), *update)
            if won is not None:
                await conn.fetch(numbered(CLAIM_REST), *event, *outbox, team_id)
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
        since = now - timedelta(days=30)

        def rest(lead_id: int) -> list[Any]:
            why = json.dumps({"method": "default", "channel": self.sales_channel})
            decision = [team_id, lead_id, None, self.sales_channel, None, "default", why, "null", now]
            outbox = [team_id, "chat.postMessage", self.sales_channel, json.dumps({"render": "lead_card"}),
                      "lead_card", lead_id, "pending", 3, now, 0, now, now]  # fmt: skip
            data = json.dumps({"rule": None, "channel": self.sales_channel})
            return [*decision, *outbox, team_id, lead_id, "created", user_id, "slack", data, now]

        if self.sqlite is not None:
            db = self.sqlite
            with _transaction(db):
                for sql, params in (
                    (SETTINGS, [team_id]),
                    (RULES, [team_id, 1]),
                    (AWAY, [team_id, 1]),
                    (BY_KEY, [team_id, key]),
                    (RECENT, [team_id, email, since]),
                    (ACCOUNTS, [team_id]),
                ):
                    db.execute(sql, _sq(params)).fetchall()
                lead_id = db.execute(NEW_LEAD, _sq(lead)).fetchone()[0]
                values = _sq(rest(lead_id))
                db.execute(DECISION, values[:9])
                db.execute(OUTBOX, values[9:21])
                db.execute(EVENT, values[21:])
                db.execute(ENDPOINTS, (team_id,)).fetchall()
            return str(lead_id)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.fetch(numbered(SETTINGS), team_id)
            await conn.fetch(numbered(RULES), team_id, True)
            await conn.fetch(numbered(AWAY), team_id, True)
            await conn.fetch(numbered(BY_KEY), team_id, key)
            await conn.fetch(numbered(RECENT), team_id, email, since)
            await conn.fetch(numbered(ACCOUNTS), team_id)
            lead_id = (await conn.fetchrow(numbered(NEW_LEAD), *lead))[0]
            await conn.fetch(numbered(ADD_REST), *rest(lead_id), team_id)
            return str(lead_id)


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
