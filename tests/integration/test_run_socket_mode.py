"""`handoff run` in Socket Mode as a real process: it connects, answers over the socket and stops
on SIGTERM; a refused app token ends start-up with one line that names it."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import aiohttp

from bot.sandbox import FakeSlack
from bot.sandbox.driver import SocketModeDriver
from tests.integration.test_run_process import ROOT, base_env, free_port, wait_healthy


def socket_env(fake: FakeSlack, tmp_path: Path, database_url: str, app_token: str) -> dict[str, str]:
    return base_env(
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'run.db'}"
        if database_url.startswith("sqlite")
        else database_url,
        PORT=str(free_port()),
        HANDOFF_HOST="127.0.0.1",
    )


async def test_run_in_socket_mode_serves_over_the_socket(tmp_path: Path, database_url: str) -> None:
    async with FakeSlack() as fake:
        fake.add_user("U0REP1", name="rob")
        env = socket_env(fake, tmp_path, database_url, fake.app_token)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{env['PORT']}"
            await wait_healthy(url, proc)
            ready = await wait_ready(url, proc)
            assert ready["socket"] == "connected"  # the mode itself is not told to the unauthenticated
            reply = await SocketModeDriver(fake=fake).command("U0REP1", "/handoff", "help")
            assert reply.status == 200 and "/lead" in reply.text
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=20)
            assert proc.returncode == 0
            _, stderr = await proc.communicate()
            assert fake.app_token.encode() not in stderr
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        fake.assert_no_violations()


async def test_run_with_a_refused_app_token_exits_with_one_line(tmp_path: Path, database_url: str) -> None:
    async with FakeSlack() as fake:
        token = fake.app_token
        fake.revoke_app_token()
        env = socket_env(fake, tmp_path, database_url, token)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.returncode == 2
        [line] = [x for x in stderr.decode().splitlines() if x.startswith("handoff:")]
        assert "SLACK_APP_TOKEN" in line and "invalid_auth" in line
        assert token not in stderr.decode()


async def wait_ready(url: str, proc: asyncio.subprocess.Process, within: float = 30) -> dict:
    """/readyz once it answers 200: migrations done, the socket started (or being retried)."""
    deadline = asyncio.get_running_loop().time() + within
    async with aiohttp.ClientSession() as session:
        while asyncio.get_running_loop().time() < deadline:
            if proc.returncode is not None:
                raise AssertionError(f"bot exited with {proc.returncode}")
            async with session.get(f"{url}/readyz") as resp:
                if resp.status == 200:
                    return await resp.json()
            await asyncio.sleep(0.1)
    raise AssertionError("bot did not become ready")
