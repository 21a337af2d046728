"""Security at the edges: signatures on every request, no bodies or secrets in the logs, Bolt's
lazy-listener headers stripped, roles enforced and refusals logged, tokens encrypted at rest,
every untrusted string escaped in every mrkdwn text the bot sends."""

from __future__ import annotations

import json
import logging
import time
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from sqlalchemy import select

from bot.sandbox import visible_text
from bot.storage.encryption import PREFIX, EncryptedInstallationStore, make_cipher, rotate_tokens
from bot.storage.models import SLACK_BOTS, SLACK_INSTALLATIONS
from tests.conftest import ADMIN, INTAKE_TOKEN, OUTSIDER, REP1, SALES, SIGNING_SECRET, RunningBot
from tests.reliability.helpers import add_lead

HOSTILE = {
    "name": "<!channel> Free money",
    "company": "<@U0EVIL> & <#C0EVIL>",
    "title": "<!here>",
    "notes": "<https://evil.example|click> <!subteam^S1> *bold* `code`",
    "campaign": "<!everyone>",
    "source": "<!date^1|x>",
}
RAW_MARKUP = (
    "<!channel>",
    "<@U0EVIL>",
    "<#C0EVIL>",
    "<!here>",
    "<https://evil",
    "<!subteam",
    "<!everyone>",
    "<!date^1|",
)


def body(**fields: str) -> str:
    return urlencode(
        {"command": "/handoff", "text": "help", "user_id": REP1, "team_id": "T0HANDOFF", **fields}
    )


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Slack-Signature": "v0=" + "0" * 64, "X-Slack-Request-Timestamp": "{now}"},  # bad
        {"X-Slack-Signature": "{sig_stale}", "X-Slack-Request-Timestamp": "{stale}"},  # stale
        {"X-Slack-Signature": "{sig_future}", "X-Slack-Request-Timestamp": "{future}"},  # from the future
        {"X-Slack-Request-Timestamp": "{now}"},  # no signature
        {"X-Slack-Signature": "{sig_now}"},  # no timestamp
        {"X-Slack-Signature": "{sig_abc}", "X-Slack-Request-Timestamp": "abc"},  # non-numeric
        {"X-Slack-Signature": "{sig_v1}", "X-Slack-Request-Timestamp": "{now}"},  # another version
        {"X-Slack-Signature": "{sig_other_body}", "X-Slack-Request-Timestamp": "{now}"},  # other body
        {"X-Slack-Signature": "", "X-Slack-Request-Timestamp": ""},
        {"X-Slack-Signature": "{sig_now}", "X-Slack-Request-Timestamp": "-1"},
        {"X-Slack-Signature": "{sig_now}", "X-Slack-Request-Timestamp": "9" * 40},
    ],
)
async def test_every_unverifiable_request_is_401_and_logs_nothing_of_it(
    bot: RunningBot, headers: dict[str, str], caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    payload = body()
    now, stale, future = str(int(time.time())), str(int(time.time()) - 301), str(int(time.time()) + 400)
    values = {
        "now": now,
        "stale": stale,
        "future": future,
        "sig_now": bot.slack.sign(payload, now),
        "sig_stale": bot.slack.sign(payload, stale),
        "sig_future": bot.slack.sign(payload, future),
        "sig_abc": bot.slack.sign(payload, "abc"),
        "sig_other_body": bot.slack.sign(body(text="status"), now),
        "sig_v1": bot.slack.sign(payload, now).replace("v0=", "v1="),
    }
    sent = {k: v.format(**values) for k, v in headers.items()}
    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{bot.url}/slack/events",
            data=payload,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sent},
        ) as resp:
            assert resp.status == 401
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "command=%2Fhandoff" not in logged and "/handoff" not in logged and SIGNING_SECRET not in logged
    assert bot.fake.ephemerals() == []


async def test_a_normal_flow_logs_no_bodies_tokens_or_secrets(bot: RunningBot, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    await add_lead(bot.handoff, email="secret.person@acme.com", name="Secret Person")
    await bot.flush()
    await bot.slack.command(REP1, "/handoff", "help", channel_id=SALES)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)
    await bot.slack.event({"type": "app_home_opened", "user": REP1, "channel": "D0X", "tab": "home"})
    await bot.flush()
    logged = "\n".join(
        r.getMessage() for r in caplog.records if not r.name.startswith(("slack_sdk", "aiosqlite", "asyncio"))
    )
    for leak in (
        SIGNING_SECRET,
        bot.fake.bot_token,
        INTAKE_TOKEN,
        "response_url",
        "trigger_id",
        "secret.person",
    ):
        assert leak not in logged, leak
    # slack_sdk's own DEBUG output redacts the token (it shows outgoing payloads at DEBUG only)
    sdk = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("slack_sdk"))
    assert bot.fake.bot_token not in sdk


async def test_bolt_lazy_listener_headers_from_outside_are_stripped(bot: RunningBot) -> None:
    payload = body()
    ts = str(int(time.time()))
    reply = await bot.slack.send_raw(
        payload,
        content_type="application/x-www-form-urlencoded",
        timestamp=ts,
        signature=bot.slack.sign(payload, ts),
        headers={"X-Slack-Bolt-Lazy-Only": "1", "X-Slack-Bolt-Lazy-Function-Name": "help_command"},
    )
    # honoured, Bolt would skip the ack and run only the named "lazy" function; stripped, it is a
    # normal command that answers with the help text
    assert reply.status == 200 and "/lead" in reply.body


async def test_forged_click_from_a_non_member_is_refused_and_logged(bot: RunningBot, caplog: Any) -> None:
    caplog.set_level(logging.INFO)
    await add_lead(bot.handoff)
    await bot.flush()
    await bot.slack.click(OUTSIDER, "Claim", channel_id=SALES)
    await bot.flush()
    assert "Claimed by" not in visible_text(bot.fake.latest(SALES).blocks)
    [record] = [r for r in caplog.records if r.levelno == logging.WARNING and "refused" in r.getMessage()]
    assert OUTSIDER in record.getMessage() and "not a member" in record.getMessage()
    assert "{" not in record.getMessage()  # no payload


async def test_forged_click_for_a_lead_of_another_workspace_is_refused_and_logged(
    bot: RunningBot, caplog: Any
) -> None:
    caplog.set_level(logging.INFO)
    lead_id = await add_lead(bot.handoff)
    await bot.flush()
    card = bot.fake.latest(SALES)
    payload = {
        "type": "block_actions",
        "team": {"id": "T0OTHER", "domain": "other"},
        "user": {"id": ADMIN, "username": "ada", "name": "ada", "team_id": "T0OTHER"},
        "api_app_id": bot.fake.app_id,
        "token": "x",
        "container": {"type": "message", "message_ts": card.ts, "channel_id": SALES, "is_ephemeral": False},
        "trigger_id": bot.fake.issue_trigger(ADMIN),
        "channel": {"id": SALES, "name": "sales"},
        "message": card.to_dict(),
        "state": {"values": {}},
        "response_url": bot.fake.issue_response_url(channel_id=SALES, user_id=ADMIN, message_ts=card.ts),
        "actions": [
            {"action_id": "lead_claim", "block_id": "lead_actions", "type": "button", "value": str(lead_id)}
        ],
    }
    reply = await bot.slack.send_raw(
        urlencode({"payload": json.dumps(payload)}), content_type="application/x-www-form-urlencoded"
    )
    assert reply.status == 200
    await bot.flush()
    assert "Claimed by" not in visible_text(bot.fake.latest(SALES).blocks)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("refused" in w and ADMIN in w and "T0OTHER" in w for w in warnings), warnings
    assert not any("response_url" in w or "trigger_id" in w for w in warnings)


def mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str) else []
        return found + [t for value in node.values() for t in mrkdwn_texts(value)]
    if isinstance(node, list):
        return [t for item in node for t in mrkdwn_texts(item)]
    return []


async def test_every_mrkdwn_text_the_bot_sends_escapes_untrusted_strings(bot: RunningBot) -> None:
    await add_lead(bot.handoff, email="evil@acme.com", **HOSTILE)
    await bot.flush()
    await add_lead(bot.handoff, email="evil@acme.com", **HOSTILE)  # resubmitted: a thread reply
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.slack.click(REP1, "Claim", channel_id=SALES)
    await bot.flush()
    texts: list[str] = []
    for call in bot.fake.calls:
        if call.method.startswith(("chat.", "views.")):
            texts += mrkdwn_texts(call.args)
            if isinstance(call.args.get("text"), str):
                texts.append(call.args["text"])  # the fallback is parsed like mrkdwn
    for response in bot.fake.responses:
        texts += mrkdwn_texts(response.payload)
        texts.append(str(response.payload.get("text") or ""))
    assert len(texts) > 10
    for text in texts:
        for raw in RAW_MARKUP:
            assert raw not in text, f"{raw!r} unescaped in {text!r}"


# ---------------------------------------------------------------------------------- tokens at rest

LONG_REFRESH = "xoxe-1-" + "My0xLTEyMzQ1Njc4OTAxMi0x" * 6  # rotating tokens are long


def installation(team: str, token: str) -> Installation:
    return Installation(
        app_id="A0HANDOFF",
        team_id=team,
        user_id="U0INSTALLER",
        bot_token=token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="chat:write,commands",
        bot_refresh_token=LONG_REFRESH,
        user_token="xoxp-123456789012-123456789012-123456789012-" + "a" * 32,
    )


async def raw_tokens(engine: Any) -> list[str]:
    async with engine.connect() as conn:
        rows = (await conn.execute(select(SLACK_BOTS.c.bot_token, SLACK_BOTS.c.bot_refresh_token))).all()
        rows += (
            await conn.execute(select(SLACK_INSTALLATIONS.c.bot_token, SLACK_INSTALLATIONS.c.user_token))
        ).all()
    return [value for row in rows for value in row if value]


async def test_tokens_are_encrypted_at_rest_and_found_in_clear(engine: Any) -> None:
    key = Fernet.generate_key().decode()
    inner = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    store = EncryptedInstallationStore(inner, make_cipher(key))
    token = "xoxb-123456789012-1234567890123-" + "A" * 24
    original = installation("T0ENC", token)
    await store.async_save(original)
    assert original.bot_token == token  # the caller's object is not changed under it
    stored = await raw_tokens(engine)
    assert stored and all(v.startswith(PREFIX) for v in stored)
    assert not any(token in v or "xoxe" in v or "xoxp" in v for v in stored)
    bot = await store.async_find_bot(enterprise_id=None, team_id="T0ENC")
    assert bot is not None and bot.bot_token == token and bot.bot_refresh_token == LONG_REFRESH
    found = await store.async_find_installation(enterprise_id=None, team_id="T0ENC")
    assert found is not None and found.user_token.startswith("xoxp-")
    # the raw store without the key sees only ciphertext
    raw = await inner.async_find_bot(enterprise_id=None, team_id="T0ENC")
    assert raw is not None and raw.bot_token.startswith(PREFIX)


async def test_key_rotation_new_key_first_then_rotate_then_drop_the_old(engine: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    inner = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    await EncryptedInstallationStore(inner, make_cipher(old)).async_save(installation("T0ROT", "xoxb-rot-1"))
    both = EncryptedInstallationStore(inner, make_cipher(f"{new},{old}"))
    bot = await both.async_find_bot(enterprise_id=None, team_id="T0ROT")
    assert bot is not None and bot.bot_token == "xoxb-rot-1"  # NEW,OLD still reads the old
    changed = await rotate_tokens(engine, make_cipher(f"{new},{old}"))
    assert changed >= 2
    only_new = EncryptedInstallationStore(inner, make_cipher(new))
    bot = await only_new.async_find_bot(enterprise_id=None, team_id="T0ROT")
    assert bot is not None and bot.bot_token == "xoxb-rot-1" and bot.bot_refresh_token == LONG_REFRESH
    with pytest.raises(RuntimeError, match="HANDOFF_ENCRYPTION_KEY"):
        await EncryptedInstallationStore(inner, make_cipher(old)).async_find_bot(
            enterprise_id=None, team_id="T0ROT"
        )


async def test_rotation_also_encrypts_tokens_saved_before_encryption_was_on(engine: Any) -> None:
    inner = AsyncSQLAlchemyInstallationStore(client_id="111.222", engine=engine)
    await inner.async_save(installation("T0PLAIN", "xoxb-plain-1"))
    key = Fernet.generate_key().decode()
    assert await rotate_tokens(engine, make_cipher(key)) >= 2
    assert all(v.startswith(PREFIX) for v in await raw_tokens(engine))
    bot = await EncryptedInstallationStore(inner, make_cipher(key)).async_find_bot(
        enterprise_id=None, team_id="T0PLAIN"
    )
    assert bot is not None and bot.bot_token == "xoxb-plain-1"
