"""Real `python -m bot run` processes for the multi-instance and kill tests."""

from __future__ import annotations

import asyncio
import itertools
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox import FakeSlack, SlackDriver
from tests.conftest import ADMIN, INTAKE_TOKEN, MARKETING, PARTNERSHIP, SALES, SIGNING_SECRET
from tests.integration.test_run_process import ROOT, base_env, free_port, wait_healthy


@dataclass
class Instance:
    port: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class Cluster:
    """N bot processes on one database, and a driver per process; requests go round robin."""

    fake: FakeSlack
    database_url: str
    tmp: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    instances: list[Instance] = field(default_factory=list)
    drivers: list[SlackDriver] = field(default_factory=list)
    _next: itertools.count = field(default_factory=itertools.count)

    def env(self, port: int) -> dict[str, str]:
        env = self._env(port)
        env.update(self.extra_env)  # a test's own settings win over the defaults below
        return env

    def _env(self, port: int) -> dict[str, str]:
        return base_env(
            SLACK_BOT_TOKEN=self.fake.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.fake.base_url,
            DATABASE_URL=self.database_url,
            PORT=str(port),
            HANDOFF_HOST="127.0.0.1",
            HANDOFF_INTAKE_TOKEN=INTAKE_TOKEN,
            HANDOFF_SALES_CHANNEL=SALES,
            HANDOFF_MARKETING_CHANNEL=MARKETING,
            HANDOFF_PARTNERSHIP_CHANNEL=PARTNERSHIP,
            HANDOFF_ADMINS=ADMIN,
            HANDOFF_CHANNEL_RATE="1000",
            HANDOFF_CHANNEL_BURST="1000",
            HANDOFF_TIER_SCALE="1000",
            HANDOFF_INTAKE_RATE_LIMIT="1000000",
            HANDOFF_SLACK_TIMEOUT="5",
            HANDOFF_OUTBOX_LEASE_SECONDS="12",
            HANDOFF_DRAIN_SECONDS="0",  # no load balancer to tell: stop at once
            # these tests flood #sales with a card per lead (bulk summaries have their own tests)
            HANDOFF_BULK_THRESHOLD="100000",
        )

    async def start(self, count: int) -> None:
        for i in range(count):
            port = free_port()
            self.instances.append(Instance(port=port, log_path=self.tmp / f"bot{i}.log"))
            self.drivers.append(
                SlackDriver(
                    fake=self.fake,
                    bot_url=f"http://127.0.0.1:{port}/slack/events",
                    signing_secret=SIGNING_SECRET,
                )
            )
        await asyncio.gather(*(self.launch(inst) for inst in self.instances))

    async def launch(self, inst: Instance) -> None:
        log = inst.log_path.open("ab")  # a file, not a pipe: nobody has to read it while it runs
        inst.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=ROOT, env=self.env(inst.port), stdout=log, stderr=log
        )
        log.close()
        await wait_healthy(inst.url, inst.proc, within=60)

    def _round_robin(self) -> int:
        """The next instance's index, as a load balancer would spread requests."""
        return next(self._next) % len(self.instances)

    def driver(self) -> SlackDriver:
        """The next instance's Slack driver, round robin."""
        return self.drivers[self._round_robin()]

    async def post_leads(self, leads: list[dict[str, Any]], *, batch: int = 100) -> list[int]:
        """POST /api/leads in batches, each to the next instance round robin, all in flight at
        once (independent clients behind a load balancer); the created leads' IDs, in order."""
        chunks = [leads[i : i + batch] for i in range(0, len(leads), batch)]
        headers = {"Authorization": f"Bearer {INTAKE_TOKEN}"}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:

            async def send(chunk: list[dict[str, Any]], inst: Instance) -> list[int]:
                async with session.post(
                    f"{inst.url}/api/leads", json={"leads": chunk}, headers=headers
                ) as resp:
                    body = await resp.json()
                    assert resp.status == 200, body
                assert body["created"] == len(chunk), body
                return [r["id"] for r in body["results"]]

            answers = await asyncio.gather(
                *(send(chunk, self.instances[self._round_robin()]) for chunk in chunks)
            )
        return [lead_id for ids in answers for lead_id in ids]

    async def kill9(self, inst: Instance) -> int:
        assert inst.proc is not None
        inst.proc.send_signal(signal.SIGKILL)
        return await inst.proc.wait()

    def logs(self) -> str:
        return "\n".join(
            i.log_path.read_text(errors="replace") for i in self.instances if i.log_path.exists()
        )

    async def stop(self) -> None:
        for inst in self.instances:
            if inst.proc is not None and inst.proc.returncode is None:
                inst.proc.send_signal(signal.SIGTERM)
        for inst in self.instances:
            if inst.proc is not None and inst.proc.returncode is None:
                try:
                    await asyncio.wait_for(inst.proc.wait(), timeout=20)
                except TimeoutError:
                    inst.proc.kill()
                    await inst.proc.wait()
        for driver in self.drivers:
            await driver.aclose()
