"""bot/slack/blocks/serialize.py gives what slack_sdk's `to_dict()` gives: the lead card in every
state with any text in it, other messages Handoff queues, modals (whose options serialize
themselves), and the same error for a model that is not valid."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    HeaderBlock,
    RichTextBlock,
    RichTextSectionElement,
    SectionBlock,
)

from bot.domain.lead import Status
from bot.slack.blocks.lead_card import lead_card
from bot.slack.blocks.serialize import as_dict, as_dicts
from bot.slack.blocks.verdicts import Verdict, reject_modal, verdict_message
from bot.storage.models import Lead

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
text = st.one_of(st.none(), st.just(""), st.text(max_size=40), st.text(min_size=2900, max_size=3100))


def reference(blocks: list[Any]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


@settings(max_examples=150, deadline=None)
@given(
    status=st.sampled_from(list(Status)),
    name=text,
    company=text,
    notes=text,
    title=text,
    source=text,
    score=st.one_of(st.none(), st.integers(0, 100)),
    rule=st.one_of(st.none(), st.text(max_size=30)),
    crm=st.lists(
        st.tuples(st.sampled_from(["hubspot", "salesforce", "x"]), st.text(max_size=20)), max_size=2
    ),
    pending=st.booleans(),
)
def test_the_lead_card_in_every_state(
    status: Status,
    name: str | None,
    company: str | None,
    notes: str | None,
    title: str | None,
    source: str | None,
    score: int | None,
    rule: str | None,
    crm: list[tuple[str, str]],
    pending: bool,
) -> None:
    lead = Lead(
        id=7, team_id="T1", email="eve@acme.com", name=name, company=company, notes=notes, title=title,
        source=source, score=score, status=status.value, owner_id="U1", assignee_id="U2",
        created_at=T0, claimed_at=T0 + timedelta(minutes=25), won_amount=Decimal("1200.50"),
        currency="EUR", lost_reason=notes, reject_reason="other", quality=3, nurture=True, channel_id="C1",
    )  # fmt: skip
    links = [(kind, f"https://crm.example/{path}") for kind, path in crm]
    try:
        _, blocks = lead_card(lead, rule_name=rule, reasons={}, crm_links=links, crm_pending=pending)
    except SlackObjectFormationError:
        return  # the models refused at construction: nothing to serialize
    try:
        expected = reference(blocks)
    except SlackObjectFormationError as error:
        with pytest.raises(SlackObjectFormationError, match=str(error)[:40]):
            as_dicts(blocks)
        return
    assert as_dicts(blocks) == expected


def test_a_verdict_message_and_a_modal() -> None:
    lead = Lead(id=7, name="<!channel> Eve", company="Acme", email="eve@acme.com", status="rejected",
                created_at=T0, verdict_at=T0 + timedelta(hours=3))  # fmt: skip
    verdict = Verdict(accepted=False, actor_id="U1", quality=2, comment="ok", reason="Other", detail="x")
    _, blocks = verdict_message(lead, verdict)
    assert as_dicts(blocks) == reference(blocks)
    # a modal: select options serialize themselves (their own to_dict), and the view too
    view = reject_modal(lead, {f"r{i}": f"Reason {i}" for i in range(5)})
    assert as_dict(view) == view.to_dict()


def test_an_empty_list_is_left_out_except_where_slack_allows_it() -> None:
    rich = RichTextBlock(elements=[RichTextSectionElement(elements=[])])
    actions = SectionBlock(text="x", fields=[])
    assert as_dict(rich) == rich.to_dict() and as_dict(actions) == actions.to_dict()
    assert "fields" not in as_dict(actions)


def test_an_invalid_model_raises_as_to_dict_does() -> None:
    too_long = HeaderBlock(text="x" * 151)
    too_many = ActionsBlock(elements=[ButtonElement(text=str(i), action_id=f"a{i}") for i in range(26)])
    for block in (too_long, too_many):
        with pytest.raises(SlackObjectFormationError) as expected:
            block.to_dict()
        with pytest.raises(SlackObjectFormationError) as got:
            as_dict(block)
        assert str(got.value) == str(expected.value)
