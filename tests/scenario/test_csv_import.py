"""`handoff import leads.csv`: the fourth door, with the same dedupe and the same card."""

from __future__ import annotations

import asyncio
import io

from bot.cli import main
from bot.cli.import_cmd import import_csv, report
from bot.sandbox import buttons, visible_text
from tests.conftest import SALES, RunningBot
from tests.scenario.helpers_intake import RAW_MARKUP, counts, mrkdwn_texts

HUBSPOT = """\ufeffRecord ID,First Name,Last Name,Email,Company Name,Job Title,Phone Number,Original Source,Lead Status,HubSpot Score
101,Jane,Doe,jane@acme.com,Acme,CTO,+1 555 0100,Webinar,NEW,80
102,No,Email,,Nowhere,,,,NEW,
103,Bad,Score,bad@acme.com,Acme,,,,NEW,500
104,"Multi
Line",Name,multi@acme.com,"Acme, Inc.",,,,OPEN,
105,Jane,Again,jane@acme.com,Acme,,,Webinar,NEW,
"""


async def run_import(bot: RunningBot, text: str, stream: io.StringIO | None = None):
    return await import_csv(
        bot.handoff.settings,
        text,
        engine=bot.handoff.engine,
        clock=bot.clock,
        progress_stream=stream or io.StringIO(),
    )


async def test_hubspot_export_imports_with_line_numbers_and_one_card_per_lead(bot: RunningBot) -> None:
    progress = io.StringIO()
    summary = await run_import(bot, HUBSPOT, progress)
    assert (summary.created, summary.duplicates) == (2, 1)
    assert [line for line, _ in summary.invalid] == [3, 4]
    assert "email" in summary.invalid[0][1] and "score" in summary.invalid[1][1]
    assert "5/5 rows (100%)" in progress.getvalue()
    out = io.StringIO()
    report(summary, out)
    assert (
        "5 rows: 2 created, 1 duplicates, 2 invalid" in out.getvalue() and "line 4: score" in out.getvalue()
    )

    await bot.flush()
    cards = bot.fake.messages(SALES)
    assert len(cards) == 2
    assert (
        "Jane Doe · Acme" in visible_text(cards[0].blocks) and buttons(cards[0].blocks)[0]["text"] == "Claim"
    )
    assert "Multi\nLine Name · Acme, Inc." in visible_text(cards[1].blocks)

    again = await run_import(bot, HUBSPOT)
    assert (again.created, again.duplicates, len(again.invalid)) == (0, 3, 2)
    await bot.flush()
    assert len(bot.fake.messages(SALES)) == 2
    assert (await counts(bot))[0] == 2


async def test_salesforce_semicolons_markup_and_unicode(bot: RunningBot) -> None:
    text = (
        "Id;FirstName;LastName;Company;Title;Email;LeadSource;Rating;Description\n"
        "00Q1;<!channel>;Free money;<@U0REP1>;<!here>;x@acme.com;Web;Hot;<https://evil.example|click>\n"
        '00Q2;مريم;🚀;"Robert\'); DROP TABLE lead;--";;y@acme.com;Web;Warm;\n'
    )
    summary = await run_import(bot, text)
    assert summary.created == 2 and not summary.invalid
    await bot.flush()
    first, second = bot.fake.messages(SALES)
    parsed = "\n".join([first.text, *mrkdwn_texts(first.blocks)])
    assert all(raw not in parsed for raw in RAW_MARKUP)
    assert "مريم 🚀 · Robert'); DROP TABLE lead;--" in visible_text(second.blocks)


async def test_cli_exit_codes(bot: RunningBot, tmp_path, monkeypatch, database_url) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", bot.fake.bot_token)
    monkeypatch.setenv("SLACK_API_URL", bot.fake.base_url)
    monkeypatch.setenv("HANDOFF_SALES_CHANNEL", SALES)
    good = tmp_path / "good.csv"
    good.write_text("email,name,source\nok@acme.com,Ok,csv\n")
    assert await asyncio.to_thread(main, ["import", "--quiet", str(good)]) == 0
    mixed = tmp_path / "mixed.csv"
    mixed.write_text("email,name\nnope,Bad\n")
    assert await asyncio.to_thread(main, ["import", "--quiet", str(mixed)]) == 1
    no_email = tmp_path / "none.csv"
    no_email.write_text("name\nX\n")
    assert await asyncio.to_thread(main, ["import", str(no_email)]) == 2
    assert await asyncio.to_thread(main, ["import", str(tmp_path / "missing.csv")]) == 2
    assert (await counts(bot))[0] == 1
