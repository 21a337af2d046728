"""A routing rule's escalation mode is its own only when it has one (migration 0016): a rule with
none follows the workspace's mode set in Settings, an explicit "manager" wins over a workspace
that reassigns (before, "manager" was every rule's stored default and could not win)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.storage.models import RoutingRule
from tests.conftest import ADMIN, MARKETER, REP1, REP2, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead
from tests.scenario.test_settings_home import edit, open_settings
from tests.scenario.test_sla import add_rule, thread, tick

MONDAY_9 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


async def workspace_reassigns(bot: RunningBot) -> None:
    await open_settings(bot, ADMIN, page="SLAs")
    assert not (await edit(bot, "sla_escalation", {"Escalation mode": "Reassign to the next rep"})).errors


async def escalate(bot: RunningBot) -> None:
    bot.clock.set(MONDAY_9)
    await add_lead(bot)
    await tick(bot, MONDAY_9 + timedelta(minutes=120))  # HANDOFF_SLA_ESCALATE_MINUTES' default


async def test_a_rule_that_chose_manager_escalates_to_its_manager_in_a_workspace_that_reassigns(
    bot: RunningBot,
) -> None:
    await add_rule(bot, escalation_mode="manager")
    await workspace_reassigns(bot)
    await escalate(bot)
    assert len(bot.fake.dms(MARKETER)) == 1  # the rule's manager
    assert not any("is now the suggested owner" in text for text in thread(bot))


async def test_a_rule_without_a_mode_follows_the_workspace(bot: RunningBot) -> None:
    await add_rule(bot)
    await workspace_reassigns(bot)
    await escalate(bot)
    assert any(f"<@{REP2}> is now the suggested owner" in text for text in thread(bot))
    assert bot.fake.dms(MARKETER) == []


def test_the_previous_releases_column_is_kept_in_step() -> None:
    assert RoutingRule(escalation_mode="reassign").sla_escalation == "reassign"
    assert RoutingRule(escalation_mode="manager").sla_escalation == "manager"
    rule = RoutingRule(escalation_mode="reassign")
    rule.escalation_mode = None
    assert rule.sla_escalation == "manager"
    assert RoutingRule().escalation_mode is None


async def test_an_admin_sets_a_rules_escalation_from_slack(bot: RunningBot) -> None:
    """`escalation=manager` on `/handoff route add` is the rule's own choice: it wins over a
    workspace that reassigns, and `route list` shows it."""
    reply = await bot.slack.command(
        ADMIN,
        "/handoff",
        f'route add "Everyone" channel=<#{SALES}|sales> reps=<@{REP1}>,<@{REP2}> manager=<@{MARKETER}> '
        "priority=10 escalation=manager",
        channel_id=SALES,
    )
    assert "escalation=manager" in reply.text, reply.text
    listed = await bot.slack.command(ADMIN, "/handoff", "route list", channel_id=SALES)
    assert "escalation=manager" in listed.text
    await workspace_reassigns(bot)
    await escalate(bot)
    assert len(bot.fake.dms(MARKETER)) == 1
    assert not any("is now the suggested owner" in text for text in thread(bot))
