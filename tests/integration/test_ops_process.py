"""`handoff run` as operators run it: JSON logs, /readyz through SIGTERM (503 first, then the
drain, then exit 0), /metrics on its own port; and `handoff run --check` against the fake Slack,
a wrong token and an unreachable database."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

import aiohttp

from bot.sandbox import FakeSlack, SlackDriver
from tests.conftest import SIGNING_SECRET
from tests.integration.test_run_process import ROOT, base_env, free_port, wait_healthy

UNREACHABLE_DB = "postgresql://handoff:pw-not-shown@127.0.0.1:1/handoff"


def db_url(tmp_path: Path, database_url: str) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'ops.db'}" if database_url.startswith("sqlite") else database_url


async def handoff(*args: str, env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url) as resp:
        return resp.status, await resp.text()


async def test_sigterm_turns_readyz_503_then_drains_and_logs_json(tmp_path: Path, database_url: str) -> None:
    async with FakeSlack() as fake:
        fake.add_user("U0REP1", name="rob")
        port, metrics_port = free_port(), free_port()
        env = base_env(
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.base_url,
            DATABASE_URL=db_url(tmp_path, database_url),
            PORT=str(port),
            HANDOFF_HOST="127.0.0.1",
            HANDOFF_METRICS_PORT=str(metrics_port),
            HANDOFF_LOG_FORMAT="json",
            HANDOFF_DRAIN_SECONDS="3",
        )
        proc = await handoff("run", env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            await wait_healthy(url, proc)
            async with aiohttp.ClientSession() as session:
                assert (await get(session, f"{url}/readyz"))[0] == 200
                assert (await get(session, f"{url}/metrics"))[0] == 404  # on its own port instead
                status, text = await get(session, f"http://127.0.0.1:{metrics_port}/metrics")
                assert status == 200 and "handoff_ready 1.0" in text
                async with SlackDriver(
                    fake=fake, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
                ) as slack:
                    assert (await slack.command("U0REP1", "/handoff", "help")).status == 200
                proc.send_signal(signal.SIGTERM)
                # the load balancer's view: not ready at once, while requests are still answered
                for _ in range(50):
                    status, text = await get(session, f"{url}/readyz")
                    if status == 503:
                        break
                    await asyncio.sleep(0.05)
                assert status == 503 and json.loads(text)["phase"] == "draining"
                assert (await get(session, f"{url}/healthz"))[0] == 200
                assert proc.returncode is None
            await asyncio.wait_for(proc.wait(), timeout=30)
            assert proc.returncode == 0
            _, stderr = await proc.communicate()
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    entries = [json.loads(line) for line in stderr.decode().splitlines()]  # every line is JSON
    messages = [e["message"] for e in entries]
    assert any(m.startswith("Handoff listening") for m in messages)
    assert any(m.startswith("shutting down") for m in messages)
    assert any("POST /slack/events 200" in m for m in messages)  # the access log, quietly
    assert not any(p in m for m in messages for p in ("/healthz", "/readyz", "/metrics")), messages
    assert SIGNING_SECRET not in stderr.decode() and fake.bot_token not in stderr.decode()


async def run_check(env: dict[str, str]) -> tuple[int, list[str]]:
    proc = await handoff("run", "--check", env=env)
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, (stdout + stderr).decode().splitlines()


async def test_check_passes_against_the_fake_slack(tmp_path: Path, database_url: str) -> None:
    async with FakeSlack() as fake:
        code, out = await run_check(
            base_env(
                SLACK_BOT_TOKEN=fake.bot_token,
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=fake.base_url,
                DATABASE_URL=db_url(tmp_path, database_url),
            )
        )
    assert code == 0, out
    assert out[-1] == "handoff check: ok"
    assert any(line.startswith("ok: Slack auth.test: workspace T") for line in out)
    assert any(line.startswith("ok: database") for line in out)
    # it changes nothing: a fresh database is left for `handoff run` to migrate
    if database_url.startswith("sqlite"):
        assert any("schema at empty; `handoff run` will migrate" in line for line in out), out


async def test_check_names_each_problem(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        code, out = await run_check(
            base_env(
                SLACK_BOT_TOKEN="xoxb-wrong-token",
                SLACK_SIGNING_SECRET=SIGNING_SECRET,
                SLACK_API_URL=fake.base_url,
                DATABASE_URL=UNREACHABLE_DB,
            )
        )
    assert code == 1
    problems = [line for line in out if line.startswith("problem:")]
    assert len(problems) == 2, out
    assert any("Slack auth.test: invalid_auth" in p for p in problems)
    assert any(p.startswith("problem: database (postgresql): cannot connect") for p in problems)
    assert out[-1] == "handoff check: 2 problem(s)"
    assert not any("pw-not-shown" in line or "xoxb-wrong-token" in line for line in out)


async def test_check_reports_bad_settings_and_unreachable_slack(tmp_path: Path) -> None:
    code, out = await run_check(
        base_env(SLACK_BOT_TOKEN="xoxb-1", SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/")
    )
    assert code == 1
    assert any(line == "problem: settings: missing SLACK_SIGNING_SECRET" for line in out), out
    assert any(line.startswith("problem: Slack: cannot reach") for line in out), out
    code, out = await run_check(base_env(DATABASE_URL="mysql://nope"))
    assert code == 1 and len(out) == 1
    assert out[0].startswith("handoff: configuration error: DATABASE_URL:")
