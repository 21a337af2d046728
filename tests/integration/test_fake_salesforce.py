"""The fake Salesforce answers as the REST API Developer Guide and the OAuth 2.0 client credentials
flow describe: the token response's fields, errors as JSON arrays of {message, errorCode, fields},
204 on update, 201 {id, success, errors} on create, SOQL results with attributes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.sandbox.fake_crm import FakeSalesforce

API = "/services/data/v62.0"


@pytest.fixture
async def sf() -> AsyncIterator[tuple[FakeSalesforce, aiohttp.ClientSession]]:
    fake = FakeSalesforce()
    await fake.start()
    async with aiohttp.ClientSession() as session:
        yield fake, session
    await fake.stop()


async def token(fake: FakeSalesforce, session: aiohttp.ClientSession, **form: str) -> tuple[int, dict]:
    data = {
        "grant_type": "client_credentials",
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    async with session.post(f"{fake.base_url}/services/oauth2/token", data={**data, **form}) as resp:
        return resp.status, await resp.json()


async def test_the_token_and_its_refusals(sf) -> None:
    fake, session = sf
    status, body = await token(fake, session)
    assert status == 200
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert body["token_type"] == "Bearer" and body["issued_at"].isdigit()
    assert await token(fake, session, client_secret="wrong") == (
        400,
        {"error": "invalid_client", "error_description": "invalid client credentials"},
    )
    assert (await token(fake, session, grant_type="password"))[1]["error"] == "unsupported_grant_type"


async def test_rows_errors_and_limits(sf) -> None:
    fake, session = sf
    user = fake.add_user("rob@example.com")
    _, tok = await token(fake, session)
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    base = tok["instance_url"] + API
    async with session.post(f"{base}/sobjects/Lead", json={"Email": "j@x.io"}, headers=auth) as resp:
        assert resp.status == 400
        [error] = await resp.json()
        assert error["errorCode"] == "REQUIRED_FIELD_MISSING" and set(error["fields"]) == {
            "LastName",
            "Company",
        }
    async with session.post(
        f"{base}/sobjects/Lead", json={"Email": "j@x.io", "LastName": "Doe", "Company": "Acme"}, headers=auth
    ) as resp:
        made = await resp.json()
        assert (
            resp.status == 201
            and made["success"] is True
            and made["errors"] == []
            and made["id"].startswith("00Q")
        )
        assert resp.headers["Sforce-Limit-Info"].startswith("api-usage=")
    async with session.patch(
        f"{base}/sobjects/Lead/{made['id']}", json={"OwnerId": user}, headers=auth
    ) as resp:
        assert resp.status == 204
    async with session.patch(
        f"{base}/sobjects/Lead/{made['id']}", json={"Status": "Nope"}, headers=auth
    ) as resp:
        assert (
            resp.status == 400
            and (await resp.json())[0]["errorCode"] == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        )
    async with session.patch(f"{base}/sobjects/Lead/00Q000000000999AAA", json={}, headers=auth) as resp:
        assert resp.status == 404 and (await resp.json())[0]["errorCode"] == "NOT_FOUND"
    q = "SELECT Id, Email FROM Lead WHERE Email = 'J@X.IO' AND IsConverted = false LIMIT 1"
    async with session.get(f"{base}/query", params={"q": q}, headers=auth) as resp:
        found = await resp.json()
        assert found["totalSize"] == 1 and found["done"] is True
        assert found["records"][0]["attributes"]["type"] == "Lead" and found["records"][0]["Id"] == made["id"]
    async with session.get(f"{base}/query", params={"q": "SELECT Id FROM Lead WHERE"}, headers=auth) as resp:
        assert resp.status == 400 and (await resp.json())[0]["errorCode"] == "MALFORMED_QUERY"
    async with session.get(
        f"{base}/query", params={"q": q}, headers={"Authorization": "Bearer nope"}
    ) as resp:
        assert resp.status == 401 and (await resp.json())[0]["errorCode"] == "INVALID_SESSION_ID"
    fake.daily_limit = fake.api_usage
    async with session.get(f"{base}/query", params={"q": q}, headers=auth) as resp:
        assert resp.status == 403 and (await resp.json())[0]["errorCode"] == "REQUEST_LIMIT_EXCEEDED"
