"""`handoff run` as a real process: serves /healthz and signed commands, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from bot.sandbox import FakeSlack, SlackDriver
from tests.conftest import SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "HANDOFF_", "DATABASE_URL", "PORT"))
    }
    env.update(extra)
    return env


async def wait_healthy(url: str, proc: asyncio.subprocess.Process, within: float = 30) -> dict:
    """/healthz's answer once the bot is live and ready to serve."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"bot exited with {proc.returncode}")
            try:
                # live, and ready: the port opens before migrations, which answer 503 meanwhile
                async with session.get(f"{url}/healthz") as resp:
                    health = await resp.json() if resp.status == 200 else None
                if health is not None:
                    async with session.get(f"{url}/readyz") as ready:
                        if ready.status == 200:
                            return health
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("bot did not become healthy")


async def test_run_serves_and_stops_gracefully(tmp_path: Path, database_url: str) -> None:
    async with FakeSlack() as fake:
        fake.add_user("U0REP1", name="rob")
        port = free_port()
        env = base_env(
            SLACK_BOT_TOKEN=fake.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake.base_url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
            if database_url.startswith("sqlite")
            else database_url,
            PORT=str(port),
            HANDOFF_HOST="127.0.0.1",
        )
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            health = await wait_healthy(url, proc)
            assert health["database"] == "ok" and not {"mode", "instance", "version"} & set(health)
            async with SlackDriver(
                fake=fake, bot_url=f"{url}/slack/events", signing_secret=SIGNING_SECRET
            ) as slack:
                reply = await slack.command("U0REP1", "/handoff", "help")
            assert reply.status == 200 and "/lead" in reply.text
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=20)
            assert proc.returncode == 0
            _, stderr = await proc.communicate()
            assert b"shutting down" in stderr
            assert SIGNING_SECRET.encode() not in stderr and fake.bot_token.encode() not in stderr
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def test_run_with_some_credentials_names_the_missing_ones(tmp_path: Path) -> None:
    """Half-configured is a deployment with a mistake: it must fail, not quietly become a sandbox."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=base_env(
            PYTHONPATH=str(ROOT),
            SLACK_BOT_TOKEN="xoxb-1",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert b"SLACK_SIGNING_SECRET" in stderr and b"xoxb-1" not in stderr


async def test_run_without_any_credentials_starts_the_sandbox(tmp_path: Path) -> None:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=base_env(PYTHONPATH=str(ROOT), PORT=str(port), HANDOFF_LOG_LEVEL="WARNING"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        assert proc.stdout is not None
        seen = b""
        while f"Open {url}".encode() not in seen:
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
            assert line, f"exited before serving: {seen.decode()}"
            seen += line
        assert b"starting the local sandbox" in seen
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as resp:
                html = await resp.text()
                assert resp.status == 200 and "Handoff sandbox" in html
            # the page's API answers only requests carrying the token its HTML was served with
            found = re.search(r'<meta name="handoff-sandbox-token" content="([^"]+)">', html)
            assert found is not None
            token = {"X-Handoff-Sandbox-Token": found.group(1)}
            async with session.post(
                f"{url}api/command",
                json={"user": "U0ADMIN", "channel": "C0SALES", "text": "/handoff help"},
                headers=token,
            ) as resp:
                assert resp.status == 200, await resp.text()
            async with session.get(f"{url}api/state", params={"user": "U0ADMIN"}, headers=token) as resp:
                state = await resp.json()
        assert any("/lead" in m["text"] and m["ephemeral"] for m in state["messages"])
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), timeout=20)
        assert proc.returncode == 0
        # its own database and its Slack messages, never the deployment's handoff.db
        assert (tmp_path / "handoff-sandbox.db").exists() and not (tmp_path / "handoff.db").exists()
        assert "/lead" in (tmp_path / "handoff-sandbox.slack.json").read_text()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
