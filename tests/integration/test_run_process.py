"""`handoff run` as a real process: serves /healthz and signed commands, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
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
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"bot exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/healthz") as resp:
                    if resp.status == 200:
                        return await resp.json()
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
            assert health["database"] == "ok" and health["mode"] == "http"
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


async def test_run_without_credentials_names_the_missing_variables(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env=base_env(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 2
    assert b"SLACK_SIGNING_SECRET" in stderr and b"SLACK_BOT_TOKEN" in stderr
