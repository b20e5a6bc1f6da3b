"""Drive many concurrent askers through the service and the real SQLite log, and through Slack's HTTP endpoint.

    python bench/load.py                    # 10,000 questions from 200 askers, each path
    python bench/load.py --questions 2000   # smaller

Prints throughput and latency percentiles, checks that every question was
answered and logged exactly once, and prints what recording a question adds to
a reply (the same questions with and without the log). Everything runs on
127.0.0.1: the Slack Web API is the test suite's local fake.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from bot.config import BUNDLED_KNOWLEDGE, Settings
from bot.evaluate import load_cases
from bot.knowledge import load_knowledge
from bot.models import Question
from bot.service import Service
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent


def question_pool() -> list[str]:
    """Questions the bot was never taught (tests/eval/), plus hostile input."""
    asked = [case.question for path in sorted((ROOT / "tests" / "eval").glob("*.yaml")) for case in load_cases(path)]
    return [*asked, "", "🤖", "'; DROP TABLE questions; --", "<!channel> hi", "x" * 5000]


def pct(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))]


def report(name: str, latencies: list[float], elapsed: float) -> None:
    print(
        f"{name:<28} {len(latencies):>6} questions in {elapsed:6.2f} s = {len(latencies) / elapsed:7.0f}/s   "
        f"latency ms: median {statistics.median(latencies):7.2f}  p95 {pct(latencies, 0.95):7.2f}  "
        f"p99 {pct(latencies, 0.99):7.2f}  max {max(latencies):7.2f}"
    )


async def through_service(folder: Path, total: int, askers: int) -> None:
    pool = question_pool()
    store = await Store(folder / "service.db").open()
    service = Service(load_knowledge(BUNDLED_KNOWLEDGE), store)
    latencies: list[float] = []
    refs: list[str] = []

    async def asker(n: int) -> None:
        rng = random.Random(n)
        for i in range(total // askers):
            started = time.perf_counter()
            reply = await service.ask(Question(rng.choice(pool), platform="load", user_id=f"u{n}"))
            latencies.append((time.perf_counter() - started) * 1000)
            refs.append(reply.ref)
            if i % 10 == 0:
                await asyncio.sleep(0)

    started = time.perf_counter()
    await asyncio.gather(*(asker(n) for n in range(askers)))
    elapsed = time.perf_counter() - started
    await store.flush()
    rows = await store.fetch("SELECT ref FROM questions")
    await store.close()
    report("service + SQLite log", latencies, elapsed)
    logged = [r["ref"] for r in rows]
    ok = len(logged) == len(refs) == len(set(logged)) and set(logged) == set(refs)
    print(
        f"  answered {len(refs)}, logged {len(logged)} rows, distinct {len(set(logged))}: {'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(1)


async def recording_cost(folder: Path, count: int = 2000) -> None:
    pool = question_pool()
    knowledge = load_knowledge(BUNDLED_KNOWLEDGE)
    store = await Store(folder / "cost.db").open()
    timings: dict[str, list[float]] = {"without log": [], "with log": []}
    services = {"without log": Service(knowledge), "with log": Service(knowledge, store)}
    rng = random.Random(3)
    for _ in range(count):
        text = rng.choice(pool)
        for name, service in services.items():
            started = time.perf_counter()
            await service.ask(Question(text, platform="load", user_id="u"))
            timings[name].append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0)
    from bot.store import QuestionRecord, new_ref

    started = time.perf_counter()
    for i in range(count):
        store.record(QuestionRecord(new_ref(), "load", f"q{i}", "q", "unknown", user_hash=store.user_hash("load", "u")))
    per_record = (time.perf_counter() - started) / count * 1000
    await store.close()
    print(f"queueing one question for the log takes {per_record * 1000:.1f} µs (the write happens in the background)")
    without, with_log = (statistics.median(timings[k]) for k in ("without log", "with log"))
    print(
        f"recording a question adds {with_log - without:.3f} ms at the median "
        f"({without:.3f} ms without the log, {with_log:.3f} ms with it; {count} questions)"
    )


async def through_slack_http(folder: Path, total: int, askers: int) -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from adapters.slack_adapter import build_app, web_app
    from tests.fakes.slack_fake import (
        BOT_TOKEN,
        SIGNING_SECRET,
        FakeSlack,
        dm_message,
        event_body,
        serve_http,
        signed_headers,
    )

    pool = [q for q in question_pool() if q.strip()]
    store = await Store(folder / "slack.db").open()
    service = Service(load_knowledge(BUNDLED_KNOWLEDGE), store)
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET)
    latencies: list[float] = []
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
        app = build_app(service, settings, client=client)
        async with (
            serve_http(web_app(app, service)) as base,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            url = f"{base}/slack/events"

            async def asker(n: int) -> None:
                rng = random.Random(n)
                for i in range(total // askers):
                    event = dm_message(rng.choice(pool), user=f"U{n:05d}", channel=f"D{n:05d}")
                    body = event_body(event, event_id=f"Ev{n:05d}x{i:05d}")
                    started = time.perf_counter()
                    async with http.post(url, data=body.encode(), headers=signed_headers(body)) as response:
                        assert response.status == 200, await response.text()
                    latencies.append((time.perf_counter() - started) * 1000)

            started = time.perf_counter()
            await asyncio.gather(*(asker(n) for n in range(askers)))
            acked = time.perf_counter() - started
            deadline = time.monotonic() + 120
            while len(fake.calls_for("chat.postMessage")) < len(latencies) and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            answered = time.perf_counter() - started
            posted = len(fake.calls_for("chat.postMessage"))
        await client.close() if hasattr(client, "close") else None
    await store.flush()
    rows = await store.fetch("SELECT COUNT(*) AS n, COUNT(DISTINCT ref) AS d FROM questions")
    await store.close()
    report("Slack HTTP (signed, acked)", latencies, acked)
    print(f"  all answers posted after {answered:.2f} s ({len(latencies) / answered:.0f}/s end to end)")
    ok = posted == len(latencies) == rows[0]["n"] == rows[0]["d"]
    print(
        f"  requests {len(latencies)}, answers posted {posted}, rows logged {rows[0]['n']} "
        f"(distinct {rows[0]['d']}): {'OK' if ok else 'MISMATCH'}"
    )
    if not ok:
        raise SystemExit(1)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--askers", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await recording_cost(folder)
        await through_service(folder, args.questions, args.askers)
        await through_slack_http(folder, args.questions, args.askers)


if __name__ == "__main__":
    asyncio.run(main())
