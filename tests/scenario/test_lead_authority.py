"""Authority comes from the lead: Claim and "Not for us" are for members of the channel the lead was
routed to, whatever channel a click names; a lead routed to a private channel is shown only to that
channel's members and the admins."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from bot import messages
from bot.ids import ActionId, BlockId, CallbackId
from bot.sandbox import visible_text
from bot.sandbox.fake_slack import Message
from tests.conftest import ADMIN, MARKETING, REP1, REP2, SALES, RunningBot
from tests.reliability.helpers import add_lead

VIP = "C0VIP"  # private: REP2 and ADMIN are in it, REP1 is not


@pytest.fixture
async def leads(bot: RunningBot) -> tuple[int, int]:
    """(a lead in the private channel, a lead in #sales)."""
    bot.fake.add_channel(VIP, name="vip-sales", members=[REP2, ADMIN], is_private=True)
    reply = await bot.slack.command(
        ADMIN, "/handoff", f'route add "VIP" channel=<#{VIP}|vip-sales> region=vip', channel_id=SALES
    )
    assert "VIP" in reply.text, reply.text
    vip = await add_lead(bot.handoff, email="vera@vip.example", name="Vera Secret", region="vip")
    public = await add_lead(bot.handoff, email="paul@vip-public.example", name="Paul Public")
    await bot.flush()
    assert "Vera Secret" in visible_text(bot.fake.latest(VIP).blocks)
    assert "Paul Public" in visible_text(bot.fake.latest(SALES).blocks)
    return vip, public


async def forged_click(bot: RunningBot, user_id: str, action: ActionId, lead_id: int, card: Message) -> None:
    """A signed click on `card` (in a channel `user_id` is in) whose button names another lead."""
    payload = {
        "type": "block_actions",
        "team": {"id": bot.fake.team_id, "domain": bot.fake.team_domain},
        "user": {"id": user_id, "username": "x", "name": "x", "team_id": bot.fake.team_id},
        "api_app_id": bot.fake.app_id,
        "token": "x",
        "container": {
            "type": "message",
            "message_ts": card.ts,
            "channel_id": card.channel,
            "is_ephemeral": False,
        },
        "trigger_id": bot.fake.issue_trigger(user_id),
        "channel": {"id": card.channel, "name": "sales"},
        "message": card.to_dict(),
        "state": {"values": {}},
        "response_url": bot.fake.issue_response_url(
            channel_id=card.channel, user_id=user_id, message_ts=card.ts
        ),
        "actions": [
            {"action_id": action.value, "block_id": "lead_actions", "type": "button", "value": str(lead_id)}
        ],
    }
    reply = await bot.slack.send_raw(
        urlencode({"payload": json.dumps(payload)}), content_type="application/x-www-form-urlencoded"
    )
    assert reply.status == 200


async def forged_return(bot: RunningBot, user_id: str, metadata: str) -> Any:
    """A signed "Not for us" form submission the person never was shown."""
    payload = {
        "type": "view_submission",
        "team": {"id": bot.fake.team_id, "domain": bot.fake.team_domain},
        "user": {"id": user_id, "username": "x", "name": "x", "team_id": bot.fake.team_id},
        "api_app_id": bot.fake.app_id,
        "token": "x",
        "trigger_id": bot.fake.issue_trigger(user_id),
        "view": {
            "id": "V0FORGED",
            "type": "modal",
            "callback_id": CallbackId.LEAD_RETURN.value,
            "private_metadata": metadata,
            "state": {
                "values": {
                    BlockId.REASON.value: {"input": {"type": "plain_text_input", "value": "not a fit"}}
                }
            },
        },
    }
    reply = await bot.slack.send_raw(
        urlencode({"payload": json.dumps(payload)}), content_type="application/x-www-form-urlencoded"
    )
    assert reply.status == 200
    return reply.json


async def test_a_click_naming_a_private_channels_lead_from_a_channel_i_am_in_is_refused(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    vip, _ = leads
    sales_card = bot.fake.latest(SALES)
    await forged_click(bot, REP1, ActionId.CLAIM, vip, sales_card)
    await bot.flush()
    assert "Claimed by" not in visible_text(bot.fake.latest(VIP).blocks)
    [refusal] = bot.fake.ephemerals(REP1)
    assert "Only members of" in refusal.text
    # "Not for us" the same way: no form opens
    await forged_click(bot, REP1, ActionId.NOT_FOR_US, vip, sales_card)
    assert bot.fake.open_view(REP1) is None
    assert len(bot.fake.ephemerals(REP1)) == 2


async def test_a_click_naming_a_private_channels_lead_is_refused_when_memory_knows_my_channel(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    """The one-statement Claim (issue 22) takes a lead only if it is routed to the channel the click
    came from and memory knows the clicker is in: known in #sales, naming the private channel's lead
    from #sales still claims nothing."""
    vip, _ = leads
    sales_card = bot.fake.latest(SALES)
    await bot.slack.click(
        REP1, "Claim", channel_id=SALES, message_ts=sales_card.ts
    )  # memory: REP1 is in #sales
    await bot.flush()
    assert f"<@{REP1}>" in visible_text(bot.fake.latest(SALES).blocks)
    await forged_click(bot, REP1, ActionId.CLAIM, vip, bot.fake.latest(SALES))
    await bot.flush()
    assert "Claimed by" not in visible_text(bot.fake.latest(VIP).blocks)
    [refusal] = bot.fake.ephemerals(REP1)
    assert "Only members of" in refusal.text
    async with bot.handoff.uow() as uow:
        lead = await uow.leads.get(bot.fake.team_id, vip)
        assert lead is not None and lead.status == "new" and lead.owner_id is None


async def test_a_forged_not_for_us_form_cannot_hand_back_a_private_channels_lead(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    vip, _ = leads
    answer = await forged_return(bot, REP1, f"{vip}:{SALES}")  # "from #sales", where REP1 is
    await bot.flush()
    assert not any("Vera" in m.text for m in bot.fake.messages(MARKETING))
    assert "Returned" not in visible_text(bot.fake.latest(VIP).blocks)
    assert answer is not None and answer["response_action"] == "errors"
    assert messages.RETURN_NOT_ALLOWED in answer["errors"][BlockId.REASON.value]


async def test_a_member_of_the_private_channel_still_claims_and_hands_back(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    await bot.slack.click(REP2, "Claim", channel_id=VIP)
    await bot.flush()
    assert f"Claimed by <@{REP2}>" in visible_text(bot.fake.latest(VIP).blocks)
    # and a #sales lead by a #sales member, from the card
    await bot.slack.click(REP1, "Not for us", channel_id=SALES)
    await bot.slack.submit(REP1, {BlockId.REASON.value: "student"})
    await bot.flush()
    assert any("Paul" in m.text for m in bot.fake.messages(MARKETING))


async def test_lead_find_shows_a_private_channels_leads_only_to_its_members_and_admins(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    outsider = await bot.slack.command(REP1, "/lead", "find vip", channel_id=SALES)
    assert "Paul Public" in outsider.text and "Vera" not in outsider.text
    only_private = await bot.slack.command(REP1, "/lead", "find vera", channel_id=SALES)
    assert "Vera" not in only_private.text and "No lead matches" in only_private.text
    for user in (REP2, ADMIN):
        reply = await bot.slack.command(user, "/lead", "find vip", channel_id=SALES)
        assert "Vera Secret" in reply.text and "Paul Public" in reply.text


async def test_details_of_a_private_channels_lead_are_not_shown_to_outsiders(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    vip, _ = leads
    await forged_click(bot, REP1, ActionId.DETAILS, vip, bot.fake.latest(SALES))
    assert bot.fake.open_view(REP1) is None
    [answer] = bot.fake.ephemerals(REP1)
    assert answer.text == messages.LEAD_NOT_FOUND.format(lead_id=vip)
    await bot.slack.click(REP2, "Details", channel_id=VIP)
    assert "Vera Secret" in visible_text(bot.fake.open_view(REP2) or {})


async def test_lead_status_on_a_private_channels_lead_tells_outsiders_nothing(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    """The refusal for a non-owner names the owner and the stage: for an outsider the lead does
    not exist, as in `/lead find` and Details."""
    vip, _ = leads
    await bot.slack.click(REP2, "Claim", channel_id=VIP)
    await bot.flush()
    await bot.slack.command(REP1, "/lead", f"status {vip} contacted", channel_id=SALES)
    answer = bot.fake.ephemerals(REP1)[-1].text
    assert answer == messages.LEAD_NOT_FOUND.format(lead_id=vip)
    assert REP2 not in answer
    await bot.slack.command(ADMIN, "/lead", f"status {vip} contacted", channel_id=SALES)
    assert "This lead is *Claimed*" in bot.fake.ephemerals(ADMIN)[-1].text  # a member sees why


async def test_lead_nurture_counts_only_the_leads_a_person_may_see(
    bot: RunningBot, leads: tuple[int, int]
) -> None:
    """Past the page of leads shown (30), the count must not give away a private channel's leads."""
    from sqlalchemy import update

    from bot.storage.models import Lead

    await bot.slack.click(REP2, "Claim", channel_id=VIP)
    await bot.flush()
    await bot.slack.click(REP2, "Reject", channel_id=VIP)
    await bot.slack.submit(REP2, {"Reason": "Not ready — recycle to nurture", "Lead quality": "3 — fair"})
    await bot.flush()
    bot.clock.advance(minutes=1)
    public = [await add_lead(bot.handoff, email=f"later{i}@acme.com", name=f"Later {i}") for i in range(30)]
    async with bot.handoff.uow() as uow:  # thirty public leads sent back since: the first page is theirs
        await uow.session.execute(
            update(Lead).where(Lead.id.in_(public)).values(nurture=True, rejected_at=bot.clock.now())
        )
    outsider = await bot.slack.command(REP1, "/lead", "nurture", channel_id=SALES)
    assert "Leads to nurture (30)" in outsider.text and "Vera" not in outsider.text
    member = await bot.slack.command(REP2, "/lead", "nurture", channel_id=SALES)
    assert "Leads to nurture (31)" in member.text
