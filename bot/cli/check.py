"""`handoff run --check`: could this configuration run? The settings (already parsed), the
database (reachable, schema not newer than the code) and Slack (auth.test with the bot token).
One line per check; exit 1 if any failed. Meant for a container's first start, CI, or a deploy
pipeline before traffic moves; it changes nothing (no migration)."""

from __future__ import annotations

import asyncio

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.storage.db import make_engine
from bot.storage.migrate import current_revision, head_revision

TIMEOUT = 10.0


async def check(settings: Settings) -> int:
    results = await asyncio.gather(
        check_slack_settings(settings), check_database(settings), check_slack(settings)
    )
    lines = [line for group in results for line in group]
    for line in lines:
        print(line, flush=True)
    problems = sum(1 for line in lines if line.startswith("problem:"))
    print(f"handoff check: {problems} problem(s)" if problems else "handoff check: ok", flush=True)
    return 1 if problems else 0


async def check_slack_settings(settings: Settings) -> list[str]:
    missing = settings.missing_slack_credentials()
    if missing:
        return [f"problem: settings: missing {', '.join(missing)}"]
    return ["ok: settings"]


async def check_database(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    kind = engine.dialect.name
    try:
        current = await asyncio.wait_for(current_revision(engine), TIMEOUT)
    except Exception as exc:  # whatever the driver raises, the answer is "cannot reach it"
        return [f"problem: database ({kind}): cannot connect: {_reason(exc)}"]
    finally:
        await engine.dispose()
    head = head_revision()
    if current == head:
        return [f"ok: database ({kind}): schema at {head}"]
    if current is not None and not _known(current):
        return [f"problem: database ({kind}): schema {current} is newer than this code ({head})"]
    return [f"ok: database ({kind}): schema at {current or 'empty'}; `handoff run` will migrate to {head}"]


async def check_slack(settings: Settings) -> list[str]:
    token = settings.secret("slack_bot_token")
    if not token:
        return (
            ["ok: Slack: no bot token (OAuth: tokens come per workspace)"] if settings.oauth_enabled else []
        )
    client = AsyncWebClient(base_url=settings.slack_api_url, token=token, timeout=int(TIMEOUT))
    try:
        answer = await client.auth_test()
    except SlackApiError as exc:
        return [f"problem: Slack auth.test: {exc.response.get('error') or exc.response.status_code}"]
    except Exception as exc:
        return [f"problem: Slack: cannot reach {settings.slack_api_url}: {_reason(exc)}"]
    return [f"ok: Slack auth.test: workspace {answer.get('team_id')}"]


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:
        return False


def _reason(exc: BaseException) -> str:
    """The error's type and first line: no SQL, no URL with a password in it."""
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).splitlines()[0][:200] if str(cause) else ""
    return f"{type(cause).__name__}: {text}" if text else type(cause).__name__
