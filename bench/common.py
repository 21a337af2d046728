"""What every benchmark shares: a fresh database, the fake Slack, real server processes, a cheap load
generator in its own process, and the result table.

The server under test always runs as its own process (`python -m bot run`, or the bare Bolt app in
bench/bare_app.py), the load generator in another (bench/loadgen.py), and the fake Slack in the
benchmark's own process, so no two of them share an event loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import signal
import socket
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.app import Handoff, build_app
from bot.config import load_settings
from bot.outbox.pacing import Pacer
from bot.sandbox import FakeSlack, SlackDriver
from bot.sandbox.driver import Reply
from bot.storage.db import make_engine
from bot.storage.migrate import migrate

ROOT = Path(__file__).resolve().parents[1]
SIGNING_SECRET = "bench-signing-secret"
INTAKE_TOKEN = "bench-intake-token-8d2f6b1c9e4a7035"
SALES = "C0SALES"
MARKETING = "C0MARKETING"
ADMIN = "U0ADMIN"
MARKETER = "U0MARKETER"
REPS = tuple(f"U0REP{i:03d}" for i in range(20))
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------------------------------- databases


def pg_base_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


def _asyncpg_url(url: str) -> str:
    for prefix in ("postgresql+asyncpg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


async def postgres_available() -> bool:
    try:
        import asyncpg

        conn = await asyncio.wait_for(asyncpg.connect(_asyncpg_url(pg_base_url())), timeout=3)
        await conn.close()
        return True
    except Exception:
        return False


@asynccontextmanager
async def bench_database(kind: str) -> AsyncIterator[str]:
    """A fresh, migrated database of `kind` ("sqlite" | "postgresql"), removed afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="handoff-bench-") as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            await _migrate(url)
            yield url
        return
    import asyncpg

    base = _asyncpg_url(pg_base_url())
    name = f"handoff_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(base)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = "postgresql+asyncpg://" + base[len("postgresql://") :].rsplit("/", 1)[0] + "/" + name
    try:
        await _migrate(url)
        yield url
    finally:
        conn = await asyncpg.connect(base)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------------------------- fake Slack


def make_fake(channels: Sequence[str] = (SALES,)) -> FakeSlack:
    """The fake workspace: an admin, a marketer, 20 reps who are members of every sales channel."""
    fake = FakeSlack()
    fake.add_user(ADMIN, name="ada", real_name="Ada Admin", is_admin=True)
    fake.add_user(MARKETER, name="maria", real_name="Maria Marketer")
    for rep in REPS:
        fake.add_user(rep, name=rep.lower(), real_name=f"Rep {rep[-3:]}")
    for i, channel in enumerate(channels):
        fake.add_channel(channel, name=f"sales-{i}", members=[*REPS, ADMIN])
    if MARKETING not in channels:
        fake.add_channel(MARKETING, name="marketing", members=[MARKETER, ADMIN])
    return fake


def card_app(database_url: str, fake: FakeSlack, *, channel: str = SALES, paced: bool = False) -> Handoff:
    """Handoff in this process against the fake Slack: a card per lead, no scheduler, no pacing
    unless `paced` (Slack's, as in production) — for seeding leads and driving the outbox by hand.
    The caller closes it."""
    settings = load_settings(
        slack_bot_token=fake.bot_token,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.base_url,
        database_url=database_url,
        sales_channel=channel,
        duplicate_window_days=0,
        burst_window_seconds=0,  # a card per lead, never a burst's summary
    )
    return build_app(settings, pacer=None if paced else Pacer(rate=1e6, burst=1e6), with_scheduler=False)


@dataclass
class Signed:
    """One request exactly as Slack would send it, signed ahead of time."""

    body: bytes
    headers: dict[str, str]


class RecordingDriver(SlackDriver):
    """The sandbox's SlackDriver, but requests are signed and kept instead of sent, so the load
    generator replays them without paying for payload building or HMAC on the client side."""

    def __init__(self, fake: FakeSlack) -> None:
        super().__init__(fake=fake, bot_url="http://unused/slack/events", signing_secret=SIGNING_SECRET)
        self.recorded: list[Signed] = []

    async def send_raw(
        self,
        body: str | bytes,
        *,
        content_type: str,
        timestamp: str | None = None,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        ts = timestamp if timestamp is not None else str(int(time.time()))
        data = body.encode() if isinstance(body, str) else body
        hdrs = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.sign(data, ts),
            **(headers or {}),
        }
        self.recorded.append(Signed(body=data, headers=hdrs))
        return Reply(status=200, body="")

    def take(self) -> list[Signed]:
        out, self.recorded = self.recorded, []
        return out


# ---------------------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "HANDOFF_", "DATABASE_URL", "PORT"))
    }
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@dataclass
class ServerProcess:
    """A server under test, as its own OS process."""

    proc: asyncio.subprocess.Process
    url: str
    log_path: Path
    profiler: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def status(self, key: str) -> int:
        """A /proc/<pid>/status figure in kB (VmHWM: peak resident set, VmRSS: now)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def cpu_seconds(self) -> float:
        """User + system CPU time this process has used (all its threads), from /proc/<pid>/stat."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float:
        return self.status("VmHWM") / 1024

    def rss_mb(self) -> float:
        return self.status("VmRSS") / 1024

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def profile(self, out: Path, *, rate: int = 200) -> None:
        """Sample this process with py-spy until stop() (raw collapsed stacks, see bench/profiling.py)."""
        import shutil

        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        self.profiler = await asyncio.create_subprocess_exec(
            spy,
            "record",
            "--pid",
            str(self.pid),
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--nonblocking",
            "-o",
            str(out),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await asyncio.sleep(0.5)  # attached before the load starts

    async def stop(self, *, grace: float = 20) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds (the bot's graceful stop lets the outbox
        sender finish its pass, which can mean waiting out the pacer; benchmarks need not)."""
        if self.profiler is not None and self.profiler.returncode is None:
            self.profiler.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            await self.profiler.wait()
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), timeout=grace)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


async def _start(argv: list[str], env: dict[str, str], port: int, ready_path: str) -> ServerProcess:
    fd, name = tempfile.mkstemp(prefix="handoff-bench-", suffix=".log")
    log_path = Path(name)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, cwd=ROOT, env=env, stdout=fd, stderr=asyncio.subprocess.STDOUT
        )
    finally:
        os.close(fd)
    server = ServerProcess(proc=proc, url=f"http://127.0.0.1:{port}", log_path=log_path)
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.returncode is not None:
                raise RuntimeError(f"{argv} exited with {proc.returncode}:\n{server.log_tail()}")
            try:
                async with session.get(server.url + ready_path) as resp:
                    if resp.status == 200:
                        return server
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    await server.stop()
    raise RuntimeError(f"{argv} did not come up:\n{server.log_tail()}")


async def start_bot(
    database_url: str, fake: FakeSlack, *, sales_channel: str = SALES, **env: str
) -> ServerProcess:
    """`python -m bot run` against the fake Slack, as it would run in production."""
    port = free_port()
    values = _clean_env(
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        HANDOFF_HOST="127.0.0.1",
        HANDOFF_INTAKE_TOKEN=INTAKE_TOKEN,
        HANDOFF_SALES_CHANNEL=sales_channel,
        HANDOFF_MARKETING_CHANNEL=MARKETING,
        HANDOFF_ADMINS=ADMIN,
        HANDOFF_LOG_LEVEL="WARNING",
        HANDOFF_INTAKE_RATE_LIMIT="1000000",
        **env,
    )
    # ready, not only live: requests while the schema is migrated are answered 503
    return await _start([sys.executable, "-m", "bot", "run"], values, port, "/readyz")


async def start_bare(
    fake: FakeSlack, *, floor_database_url: str | None = None, sales_channel: str = SALES
) -> ServerProcess:
    """The floor: a bare slack-bolt AsyncApp whose listeners only ack (bench/bare_app.py), or with
    `floor_database_url`, whose Claim and `/lead` listeners run Handoff's SQL through the raw driver
    before acking (bench/floor_sql.py)."""
    port = free_port()
    env = _clean_env(
        SLACK_BOT_TOKEN=fake.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        PORT=str(port),
    )
    if floor_database_url is not None:
        env.update(FLOOR_DATABASE_URL=floor_database_url, FLOOR_SALES_CHANNEL=sales_channel)
    return await _start([sys.executable, "-m", "bench.bare_app"], env, port, "/healthz")


# ---------------------------------------------------------------------------------------- load


@dataclass
class LoadResult:
    requests: int
    ok: int
    failed: int
    seconds: float
    latencies_ms: list[float] = field(repr=False, default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float | None = None  # CPU the server used for these requests (noise-proof cost)

    @property
    def cpu_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        values = sorted(self.latencies_ms)
        return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


async def run_load(
    url: str,
    runs: Sequence[tuple[Sequence[Signed], int]],
    *,
    warmup: Sequence[Signed] = (),
    pace_ms: float = 0,
) -> list[LoadResult]:
    """Replay signed requests through bench/loadgen.py (its own process), run after run; each
    (requests, concurrency) run sends every request once, after the warm-up requests. `pace_ms`:
    each of the concurrent workers sends at most one request per `pace_ms` (a steady load)."""
    # on a thread: bench.jobs serves Handoff on this process's loop, and encoding a slice of 500
    # requests held it for 40-60 ms, stalls its probe laid at the job's door
    spec_path = await asyncio.to_thread(_write_spec, url, runs, warmup, pace_ms)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.loadgen",
            spec_path,
            cwd=ROOT,
            env=_clean_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
    finally:
        os.unlink(spec_path)
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed: {err.decode(errors='replace')[-2000:]}")
    return [
        LoadResult(
            requests=d["requests"],
            ok=d["ok"],
            failed=d["failed"],
            seconds=d["seconds"],
            latencies_ms=d["latencies_ms"],
            statuses=d["statuses"],
        )
        for d in json.loads(out)
    ]


def _write_spec(
    url: str, runs: Sequence[tuple[Sequence[Signed], int]], warmup: Sequence[Signed], pace_ms: float
) -> str:
    spec = {
        "url": url,
        "warmup": [_encode(r) for r in warmup],
        "runs": [
            {"concurrency": c, "pace_ms": pace_ms, "requests": [_encode(r) for r in reqs]} for reqs, c in runs
        ],
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
        return f.name


def _encode(r: Signed) -> dict[str, Any]:
    return {"body": r.body.decode("latin-1"), "headers": r.headers}


# ---------------------------------------------------------------------------------------- output


@dataclass
class Row:
    """One line of the result table."""

    bench: str
    db: str
    case: str
    figure: str
    goal: str = ""
    ok: bool | None = None

    def verdict(self) -> str:
        return "" if self.ok is None else ("yes" if self.ok else "NO")


def table(rows: Sequence[Row]) -> str:
    header = ("bench", "db", "case", "result", "goal", "met")
    lines = [header, *((r.bench, r.db, r.case, r.figure, r.goal, r.verdict()) for r in rows)]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in line) + " |" for line in lines[1:]]
    return "\n".join(out)


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, {time.strftime('%Y-%m-%d')}"
    )


async def databases(wanted: Sequence[str]) -> tuple[list[str], list[str]]:
    """The databases to run on, and notes about the ones skipped."""
    kinds, notes = [], []
    for kind in wanted:
        if kind == "postgresql" and not await postgres_available():
            notes.append(f"PostgreSQL skipped: nothing answers at {pg_base_url()}")
            continue
        kinds.append(kind)
    return kinds, notes
