"""The load generator, run as its own process: `python -m bench.loadgen spec.json`.

It replays pre-signed requests over keep-alive connections with `concurrency` workers, each request
once, and prints JSON (latencies in ms, status counts). It writes raw HTTP/1.1 bytes prepared before
the clock starts, so the client costs a few microseconds a request and is not what gets measured.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def _prepare(host: str, port: int, path: str, req: dict[str, Any]) -> bytes:
    body = req["body"].encode("latin-1")
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in req["headers"].items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding":
            raise RuntimeError("chunked responses are not expected from the servers under test")
    if length:
        await reader.readexactly(length)
    return status


async def run_one(
    host: str, port: int, warmup: list[bytes], requests: list[bytes], concurrency: int, pace_ms: float = 0
) -> dict[str, Any]:
    """`pace_ms`: each worker starts a request at most every `pace_ms` (a steady light load);
    0 sends the next as soon as the last is answered."""
    concurrency = max(1, min(concurrency, len(requests) or 1))
    conns = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    for i, data in enumerate(warmup):
        reader, writer = conns[i % concurrency]
        await _exchange(reader, writer, data)

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    queue = iter(requests)

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for data in queue:  # a shared iterator: each request goes out once
            t0 = time.perf_counter()
            status = await _exchange(reader, writer, data)
            latencies.append((time.perf_counter() - t0) * 1000)
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if pace_ms:
                await asyncio.sleep(max(0.0, pace_ms / 1000 - (time.perf_counter() - t0)))

    start = time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in conns))
    seconds = time.perf_counter() - start
    for _, writer in conns:
        writer.close()
    ok = sum(n for s, n in statuses.items() if s.startswith("2"))
    return {
        "requests": len(latencies),
        "ok": ok,
        "failed": len(latencies) - ok,
        "seconds": seconds,
        "latencies_ms": latencies,
        "statuses": statuses,
    }


async def run(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Each run in turn: {"url", "warmup": [...], "runs": [{"concurrency", "requests": [...]}]}."""
    url = urlsplit(spec["url"])
    host, port, path = url.hostname or "127.0.0.1", url.port or 80, url.path or "/"
    warmup = [_prepare(host, port, path, r) for r in spec.get("warmup", [])]
    results = []
    for one in spec["runs"]:
        requests = [_prepare(host, port, path, r) for r in one["requests"]]
        pace = float(one.get("pace_ms") or 0)
        results.append(await run_one(host, port, warmup, requests, int(one["concurrency"]), pace))
    return results


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    print(json.dumps(asyncio.run(run(spec))))


if __name__ == "__main__":
    main()
