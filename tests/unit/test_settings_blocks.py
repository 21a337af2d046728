"""The Settings pages stay within Slack's 100 blocks, whatever the workspace keeps; every setting
of the catalog has a page, a form that round-trips its value, and a sentence for a bad value."""

from __future__ import annotations

import pytest
from slack_sdk.models.views import View

from bot.domain import settings_catalog as catalog
from bot.domain.settings_catalog import PAGES, SettingsPage, SettingValue, Source
from bot.services.workspace_settings import MAX_CHANNEL_SCHEDULES, MAX_REASONS
from bot.slack.blocks.settings import edit_modal, reason_modal, schedule_modal, settings_view


def page_with(page_key: str, reasons: int = 0, retired: int = 0) -> SettingsPage:
    defs = catalog.on_page(page_key)
    rows = [SettingValue(d, None, Source.DEFAULT) for d in defs]
    return SettingsPage(
        page=catalog.find_page(page_key),
        rows=rows,
        reasons={f"r{i}": f"Reason {i}" for i in range(reasons)} | {"other": "Other"},
        retired={f"old{i}": f"Old reason {i}" for i in range(retired)},
        schedules={f"C{i:04d}": "weekdays 9:00" for i in range(MAX_CHANNEL_SCHEDULES)},
    )


def test_every_page_fits_with_the_most_reasons_a_workspace_may_keep() -> None:
    sizes = {}
    for page in PAGES:
        view = settings_view(page_with(page.key, reasons=MAX_REASONS, retired=200))
        blocks = view.to_dict()["blocks"]
        View(**view.to_dict()).validate_json()
        sizes[page.key] = len(blocks)
    assert max(sizes.values()) <= 100
    assert sizes["leads"] == 4 + 1 + 2 + MAX_REASONS + 1 + 1  # head, hot score, reasons, "Other", retired
    partnership = 4 + len(catalog.on_page("partnership")) + 2 + MAX_CHANNEL_SCHEDULES
    assert sizes["partnership"] == partnership  # head, settings, schedules header, one per channel


def test_the_channel_schedule_forms() -> None:
    adding = schedule_modal(None, None).to_dict()
    View(**adding).validate_json()
    assert [b.get("block_id") for b in adding["blocks"]] == ["schedule_channel", "schedule_spec"]
    editing = schedule_modal("C0EMEA", "daily 17:00").to_dict()
    View(**editing).validate_json()
    assert editing["private_metadata"] == "C0EMEA"
    assert [b.get("block_id") for b in editing["blocks"][1:]] == ["schedule_spec", "schedule_remove"]
    assert editing["blocks"][1]["element"]["initial_value"] == "daily 17:00"


def test_every_setting_has_a_page_and_a_form() -> None:
    pages = {p.key for p in PAGES}
    for d in catalog.CATALOG:
        assert d.page in pages
        form = edit_modal(SettingValue(d, None, Source.DEFAULT)).to_dict()
        assert len(form["title"]["text"]) <= 24 and form["private_metadata"] == d.key
    assert reason_modal("not_icp", "Not our ICP").to_dict()["private_metadata"] == "not_icp"


@pytest.mark.parametrize(
    ("key", "typed", "stored"),
    [
        ("timezone", "Europe/Paris", "Europe/Paris"),
        ("business_hours", " 08:30-16:30 ", "08:30-16:30"),
        ("business_days", "Sun-Thu", "sun-thu"),
        ("holidays", "2026-12-26, 2026-12-25", ["2026-12-25", "2026-12-26"]),
        ("discuss_reason_share", "40%", 0.4),
        ("discuss_min_acceptance", "0.25", 0.25),
        ("discuss_cron", "Mon,Thu  9:30", "mon,thu 9:30"),
        ("discuss_cron", "off", "off"),
        ("sales_usergroup", "<!subteam^S0SALES|@sales>", "S0SALES"),
        ("sales_users", ["U1", "U2", "U1"], ["U1", "U2"]),
        ("hot_score", "0", 0),
    ],
)
def test_values_are_stored_as_the_readers_expect(key: str, typed: object, stored: object) -> None:
    d = catalog.setting(key)
    assert catalog.parse(d, typed) == stored
    if d.kind not in (catalog.Kind.USERS, catalog.Kind.USERGROUP):
        assert catalog.parse(d, catalog.to_text(d, stored)) == stored  # the form shows it back


@pytest.mark.parametrize(
    ("key", "typed"),
    [
        ("timezone", "Europe/Atlantis"),
        ("business_hours", "9 to 5"),
        ("business_days", "weekdays-ish"),
        ("holidays", "2026-02-30"),
        ("sla_stage_days", "0"),
        ("digest_day", "someday"),
        ("discuss_min_sample", "-1"),
        ("sales_users", ["not-a-user"]),
        ("sales_channel", None),
    ],
)
def test_bad_values_get_a_sentence(key: str, typed: object) -> None:
    with pytest.raises(ValueError) as err:
        catalog.parse(catalog.setting(key), typed)
    assert str(err.value).strip()


def test_remind_must_come_before_escalate() -> None:
    now = {"sla_remind_minutes": 30, "sla_escalate_minutes": 120}
    assert catalog.cross_errors("sla_remind_minutes", 119, now) is None
    assert "before the escalation" in (catalog.cross_errors("sla_remind_minutes", 120, now) or "")
    assert "before the escalation" in (catalog.cross_errors("sla_escalate_minutes", 30, now) or "")
