"""Pure builders and parsers behind verdicts: escaping, Slack's limits, configured reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.lead import Status
from bot.domain.reasons import REJECT_REASONS
from bot.handlers.lead_queries import parse_status_args
from bot.services.feedback import normalise_reasons
from bot.services.lifecycle import parse_amount, parse_currency
from bot.slack.blocks.lead_lists import mine_message
from bot.slack.blocks.verdicts import Verdict, lead_id_from_view, reject_modal, verdict_message

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def lead(**values: object) -> SimpleNamespace:
    base = {
        "id": 7,
        "name": "<!channel> Eve",
        "company": "Acme & <Co>",
        "email": "eve@acme.com",
        "source": "webinar",
        "campaign": None,
        "status": "rejected",
        "created_at": T0,
        "verdict_at": T0 + timedelta(hours=3, minutes=5),
    }
    base.update(values)
    return SimpleNamespace(**base)


def test_verdict_message_escapes_everything_untrusted() -> None:
    verdict = Verdict(
        accepted=False,
        actor_id="U1",
        quality=2,
        comment="<@U2> call <!here>",
        reason="Other",
        detail="<b>x</b>",
    )
    text, blocks = verdict_message(lead(), verdict)
    rendered = text + str([b.to_dict() for b in blocks])
    for raw in ("<!channel>", "<@U2>", "<!here>", "<b>", "<Co>"):
        assert raw not in rendered
    assert "&lt;!channel&gt; Eve" in text and "3 h 5 min after arrival" in text


def test_reject_modal_keeps_within_slack_limits() -> None:
    reasons = {f"r{i}": "x" * 120 for i in range(150)}
    view = reject_modal(lead(), reasons).to_dict()
    options = view["blocks"][1]["element"]["options"]
    assert len(options) == 100 and all(len(o["text"]["text"]) <= 75 for o in options)
    assert len(view["title"]["text"]) <= 24
    assert lead_id_from_view(view) == 7
    assert lead_id_from_view({"private_metadata": "not json"}) is None
    assert lead_id_from_view({"private_metadata": '{"lead_id": true}'}) is None


def test_configured_reasons_always_offer_other() -> None:
    assert normalise_reasons(None) == REJECT_REASONS
    assert normalise_reasons({"small": "Too small"}) == {"small": "Too small", "other": "Other"}
    assert normalise_reasons(["Too small", "Competitor customer"]) == {
        "too_small": "Too small",
        "competitor_customer": "Competitor customer",
        "other": "Other",
    }
    assert normalise_reasons("garbage") == REJECT_REASONS


def test_amounts_and_currencies() -> None:
    assert parse_amount("12,000.50") == Decimal("12000.50")
    assert parse_amount(" 7 500 ") == Decimal("7500")
    for bad in ("", "-5", "1.234", "NaN", "1e9999", "12,00"):
        with pytest.raises(InvalidInput):
            parse_amount(bad)
    assert parse_currency(" eur ") == "EUR"
    with pytest.raises(InvalidInput):
        parse_currency("euro")


def test_status_arguments() -> None:
    assert parse_status_args("42 meeting booked") == (42, Status.MEETING_BOOKED, [])
    assert parse_status_args("#42 won 12000 EUR") == (42, Status.WON, ["12000", "EUR"])
    assert parse_status_args("42 lost went dark") == (42, Status.LOST, ["went", "dark"])
    assert isinstance(parse_status_args("42"), str)
    assert isinstance(parse_status_args("abc contacted"), str)


def test_long_lists_stay_under_fifty_blocks() -> None:
    rows = [
        SimpleNamespace(lead=lead(id=i, status="claimed"), next_action="Accept or reject", clock=None)
        for i in range(80)
    ]
    _, blocks = mine_message(rows)
    assert len(blocks) <= 50
    assert "80 more" not in str(blocks[-1].to_dict()) and "40 more" in str(blocks[-1].to_dict())
