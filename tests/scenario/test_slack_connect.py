"""Slack Connect and Enterprise Grid: a person of another organisation (or another workspace of the
Grid) submits a modal opened in our workspace; the workspace is the one the app is installed in, as
Bolt resolves it (view.app_installed_team_id, authorizations), never the person's."""

from __future__ import annotations

import pytest

from bot.sandbox import visible_text
from bot.slack.payloads import extract_click, extract_submission, installed_team_id
from tests.conftest import MODES, SALES, RunningBot
from tests.scenario.test_card_and_claim import add_lead

PARTNER_TEAM, PARTNER_REP, GRID = "T0PARTNER", "U0PARTNERREP", "E0GRID"


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize(
    ("enterprise", "org_wide"),
    [(None, False), (GRID, False), (GRID, True)],
    ids=["connect", "grid", "org-wide"],
)
async def test_a_verdict_submitted_by_a_person_of_another_organisation_is_ours(
    bot: RunningBot, enterprise: str | None, org_wide: bool
) -> None:
    bot.fake.add_user(PARTNER_REP, name="pat", real_name="Pat Partner")
    bot.fake.channels[SALES].members.add(PARTNER_REP)  # a shared channel: both organisations in it
    await add_lead(bot)
    # the lead is claimed and the Accept modal opened in our workspace ...
    assert (await bot.slack.click(PARTNER_REP, "Claim", channel_id=SALES)).ok
    await bot.flush()
    assert f"Claimed by <@{PARTNER_REP}>" in visible_text(bot.fake.latest(SALES).blocks)  # type: ignore[union-attr]
    await bot.slack.click(PARTNER_REP, "Accept", channel_id=SALES)
    view = bot.fake.open_view(PARTNER_REP)
    assert view is not None and view["app_installed_team_id"] == bot.fake.team_id
    # ... and Slack delivers the submission as the person's organisation's
    bot.slack.acting_as(PARTNER_TEAM, enterprise_id=enterprise, org_wide=org_wide)
    reply = await bot.slack.submit(PARTNER_REP, {"Lead quality": "4 — good"})
    assert reply.ok and not reply.errors, reply.body  # not "can't find lead"
    assert bot.fake.open_view(PARTNER_REP) is None
    await bot.flush()
    assert "Accepted* · owner" in visible_text(bot.fake.latest(SALES).blocks)  # type: ignore[union-attr]


def test_resolution_order_for_every_payload_kind() -> None:
    ours = "T0OURS"
    submission = {
        "type": "view_submission",
        "team": {"id": PARTNER_TEAM},
        "user": {"id": "U1", "team_id": PARTNER_TEAM},
        "view": {"id": "V1", "team_id": PARTNER_TEAM, "app_installed_team_id": ours, "private_metadata": "7"},
    }
    assert extract_submission(submission).team_id == ours
    click = {
        "type": "block_actions",
        "api_app_id": "A1",
        "team": {"id": PARTNER_TEAM},
        "user": {"id": "U1", "team_id": PARTNER_TEAM},
        "message": {"ts": "1.2", "team": ours, "app_id": "A1"},
        "actions": [{"action_id": "claim", "value": "7"}],
    }
    # a click carries no installation field; the message it sends back is not trusted for this
    assert extract_click(click).team_id == PARTNER_TEAM
    event = {
        "type": "event_callback",
        "team_id": PARTNER_TEAM,
        "enterprise_id": GRID,
        "authorizations": [{"team_id": ours, "enterprise_id": GRID, "is_enterprise_install": False}],
    }
    assert installed_team_id(event) == ours
    org_wide = {
        **event,
        "authorizations": [{"team_id": None, "enterprise_id": GRID, "is_enterprise_install": True}],
    }
    assert installed_team_id(org_wide) == PARTNER_TEAM  # the workspace the event happened in
    assert (
        installed_team_id({"type": "block_actions", "team": None, "user": {"id": "U1", "team_id": ours}})
        == ours
    )
    assert installed_team_id({"command": "/lead", "team_id": ours}) == ours
