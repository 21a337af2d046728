"""The sandbox's CRM panel: a claim in the sandbox syncs to its fake HubSpot and fake Salesforce
(never a real CRM), and the page's state shows what each was written."""

from __future__ import annotations

from bot.sandbox.server import REP1, SALES, Sandbox
from tests.integration.test_sandbox import Page, add_lead, eventually, page, sandbox

__all__ = ["page", "sandbox"]  # the fixtures, shared with test_sandbox


async def test_a_claim_shows_in_the_crm_panel(sandbox: Sandbox, page: Page) -> None:
    assert sandbox.handoff is not None
    settings = sandbox.handoff.settings
    assert settings.hubspot_api_url == sandbox.hubspot.base_url
    assert settings.salesforce_login_url == sandbox.salesforce.base_url
    before = (await page.state(REP1.id))["crm"]
    assert [(c["crm"], c["count"]) for c in before] == [("HubSpot", 0), ("Salesforce", 0)]
    await add_lead(sandbox, name="<b>Jane</b> Doe")
    [card] = [m for m in (await page.state(REP1.id))["messages"] if m["channel"] == SALES]
    actions = next(b for b in card["blocks"] if b["type"] == "actions")
    claim = next(e for e in actions["elements"] if e["text"]["text"] == "Claim")
    status, body = await page.post(
        "click",
        REP1.id,
        text="Claim",
        action_id=claim["action_id"],
        block_id=actions["block_id"],
        container={"type": "message", "channel": SALES, "ts": card["ts"]},
    )
    assert status == 200, body
    await eventually(sandbox, lambda: sandbox.hubspot.contacts and sandbox.salesforce.leads, "the CRM sync")
    hubspot, salesforce = (await page.state(REP1.id))["crm"]
    [contact] = hubspot["records"]
    assert contact["title"] == "jane@acme.com" and contact["fields"]["hs_lead_status"] == "IN_PROGRESS"
    assert contact["fields"]["hubspot_owner_id"] in sandbox.hubspot.owners
    [lead] = salesforce["records"]
    assert lead["title"] == "jane@acme.com"
    assert lead["fields"]["Status"] == "Open - Not Contacted"
    assert lead["fields"]["OwnerId"] in sandbox.salesforce.users
    assert lead["fields"]["FirstName"] == "<b>Jane</b>"  # shown as text by the page (textContent)
