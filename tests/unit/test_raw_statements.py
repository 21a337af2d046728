"""How bot/storage/raw.py combines statements (pure text work): the INSERTs waiting on PostgreSQL
ride ahead of the next read in a data-modifying WITH, with their parameters in text order."""

from __future__ import annotations

from bot.storage.raw import Deferred, numbered, reads_none_of, riding_along

EVENT = Deferred("lead_event", "INSERT INTO lead_event (a, b) VALUES (?, ?)", [1, 2])
OUTBOX = Deferred("outbox", "INSERT INTO outbox (c) VALUES (?)", [3])


def test_waiting_inserts_ride_ahead_of_a_read_in_text_order() -> None:
    sql, params = riding_along([EVENT, OUTBOX], ("SELECT id FROM webhook_endpoint WHERE team_id = ?", ["T1"]))
    assert sql == (
        "WITH w0 AS (INSERT INTO lead_event (a, b) VALUES (?, ?)), w1 AS (INSERT INTO outbox (c) VALUES (?)) "
        "SELECT id FROM webhook_endpoint WHERE team_id = ?"
    )
    assert params == [1, 2, 3, "T1"]
    assert numbered(sql).count("$") == 4 and "$4" in numbered(sql) and "?" not in numbered(sql)


def test_alone_the_last_insert_is_the_statement() -> None:
    assert riding_along([EVENT], None) == (EVENT.sql, [1, 2])
    sql, params = riding_along([EVENT, OUTBOX], None)
    assert sql == f"WITH w0 AS ({EVENT.sql}) {OUTBOX.sql}" and params == [1, 2, 3]


def test_only_a_read_of_other_tables_may_carry_them() -> None:
    assert reads_none_of("SELECT id FROM webhook_endpoint WHERE team_id = ?", [EVENT, OUTBOX])
    # it would not see their rows (one snapshot for every part of a statement)
    assert not reads_none_of("SELECT id FROM outbox WHERE lead_id = ?", [EVENT, OUTBOX])
    assert not reads_none_of("select x from lead_event", [EVENT])
    # a table named inside another's name is not that table
    assert reads_none_of("SELECT id FROM lead WHERE id = ?", [EVENT])
    # a write goes after them, never with them
    assert not reads_none_of("UPDATE lead SET status = ? RETURNING id", [EVENT])
