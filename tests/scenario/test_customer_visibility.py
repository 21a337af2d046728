"""Customers are seen as the won lead that made them (bot/handlers/lead_access.py): a customer
whose lead was won in a private channel is listed only to that channel's members, the admins and
its owner, in `/lead accounts`, `/lead find` and App Home alike."""

from __future__ import annotations

from bot.sandbox import visible_text
from tests.conftest import ADMIN, MARKETER, REP1, REP2, SALES, RunningBot
from tests.reliability.helpers import add_lead
from tests.scenario.test_after_the_close import ack_text

VIP = "C0VIP"  # private: REP1 (who closes) and ADMIN are in it; REP2 and MARKETER are not


async def win_in(bot: RunningBot, channel: str, **fields: object) -> None:
    await add_lead(bot.handoff, **fields)
    await bot.flush()
    await bot.slack.click(REP1, "Claim", channel_id=channel)
    await bot.flush()
    await bot.slack.click(REP1, "Accept", channel_id=channel)
    assert not (await bot.slack.submit(REP1, {"Lead quality": "4 — good"})).errors
    await bot.flush()
    await bot.slack.click(REP1, "Won", channel_id=channel)
    assert not (await bot.slack.submit(REP1, {"Deal amount": "9000", "Currency": "EUR"})).errors
    await bot.flush()


async def customers(bot: RunningBot) -> None:
    bot.fake.add_channel(VIP, name="vip-sales", members=[REP1, ADMIN], is_private=True)
    reply = await bot.slack.command(
        ADMIN, "/handoff", f'route add "VIP" channel=<#{VIP}|vip-sales> region=vip', channel_id=SALES
    )
    assert "VIP" in reply.text, reply.text
    await win_in(bot, VIP, email="vera@verity.example", name="Vera Secret", company="Verity", region="vip")
    await win_in(bot, SALES, email="paul@publica.example", name="Paul Public", company="Publica")


async def test_lead_accounts_and_find_hide_a_private_channels_customer(bot: RunningBot) -> None:
    await customers(bot)
    listed = ack_text(await bot.slack.command(REP2, "/lead", "accounts"))
    assert "Publica" in listed and "Verity" not in listed
    for who in (REP1, ADMIN):  # the owner (a member) and an admin
        listed = ack_text(await bot.slack.command(who, "/lead", "accounts"))
        assert "Publica" in listed and "Verity" in listed, who
    found = ack_text(await bot.slack.command(REP2, "/lead", "find verity"))
    assert "Verity" not in found and "No " in found
    assert "Verity" in ack_text(await bot.slack.command(ADMIN, "/lead", "find verity"))


async def test_app_home_lists_only_the_customers_one_may_see(bot: RunningBot) -> None:
    await customers(bot)
    await bot.slack.app_home_opened(MARKETER)  # marketing sees every customer it may see
    home = visible_text(bot.fake.home(MARKETER))
    assert "Publica" in home and "Verity" not in home
    await bot.slack.app_home_opened(ADMIN)
    home = visible_text(bot.fake.home(ADMIN))
    assert "Publica" in home and "Verity" in home


async def test_the_owner_sees_a_customer_after_leaving_the_channel(bot: RunningBot) -> None:
    await customers(bot)
    bot.fake.channels[VIP].members.discard(REP1)
    bot.clock.advance(minutes=5)  # past the remembered membership
    listed = ack_text(await bot.slack.command(REP1, "/lead", "accounts"))
    assert "Verity" in listed


async def test_home_fills_its_list_with_customers_one_may_see(bot: RunningBot) -> None:
    """Sixteen private customers first in the alphabet do not crowd out a public one."""
    bot.fake.add_channel(VIP, name="vip-sales", members=[REP1, ADMIN], is_private=True)
    await bot.slack.command(
        ADMIN, "/handoff", f'route add "VIP" channel=<#{VIP}|vip-sales> region=vip', channel_id=SALES
    )
    team = await bot.handoff.default_team_id()
    now = bot.clock.now()
    rows = []
    for n in range(16):
        lead_id = await add_lead(
            bot.handoff, email=f"p{n}@a{n:02d}.example", company=f"A{n:02d}", region="vip"
        )
        rows.append((f"A{n:02d}", lead_id))
    rows.append(("Zeta", await add_lead(bot.handoff, email="z@zeta.example", company="Zeta")))
    async with bot.handoff.uow() as uow:
        for company, lead_id in rows:
            await uow.retention.add_account(
                {"team_id": team, "key": company.lower(), "company": company, "domain": None, "owner_id": REP1,
                 "first_lead_id": lead_id, "won_leads": 1, "created_at": now, "updated_at": now}
            )  # fmt: skip
    await bot.slack.app_home_opened(MARKETER)
    home = visible_text(bot.fake.home(MARKETER))
    assert "Zeta" in home and "A00" not in home
