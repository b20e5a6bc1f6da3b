"""The question log: schema upgrades, safe SQL, and never losing a row when the database misbehaves."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

from bot.models import Question
from bot.service import Service
from bot.store import MIGRATIONS, SCHEMA_VERSION, FeedbackRecord, QuestionRecord, Store, new_ref


def _row(text: str = "q", **kw: object) -> QuestionRecord:
    return QuestionRecord(ref=new_ref(), platform="console", text=text, normalised=text, outcome="unknown", **kw)


async def test_opening_an_older_database_upgrades_it_without_losing_rows(db_path: Path) -> None:
    raw = sqlite3.connect(db_path)
    raw.executescript(MIGRATIONS[0] + "PRAGMA user_version = 1;")
    raw.execute(
        "INSERT INTO questions (ref, asked_at, platform, text, normalised, outcome) VALUES (?, ?, ?, ?, ?, ?)",
        ("old1", "2025-01-01T00:00:00+00:00", "discord", "an old question", "old question", "unknown"),
    )
    raw.commit()
    raw.close()
    async with Store(db_path) as store:
        rows = await store.fetch("SELECT ref, text, status FROM questions")
        version = (await store.fetch("PRAGMA user_version"))[0][0]
        journal = (await store.fetch("PRAGMA journal_mode"))[0][0]
    assert [tuple(r) for r in rows] == [("old1", "an old question", "open")]
    assert version == SCHEMA_VERSION and journal == "wal"


async def test_sql_looking_text_is_stored_verbatim(store: Store) -> None:
    evil = "'; DROP TABLE questions; --"
    store.record(_row(evil))
    assert await store.flush()
    assert [r["text"] for r in await store.fetch("SELECT text FROM questions")] == [evil]


async def test_user_ids_are_hashed_with_a_salt_kept_across_restarts(db_path: Path) -> None:
    async with Store(db_path) as first:
        h1 = first.user_hash("slack", "U123")
    async with Store(db_path) as second:
        h2 = second.user_hash("slack", "U123")
    assert h1 == h2 and "U123" not in h1
    assert Store(db_path, salt="other").user_hash("slack", "U123") != h1


async def test_feedback_is_one_vote_per_person_per_answer(store: Store) -> None:
    store.record_feedback(FeedbackRecord("ref1", "typical-day", True, "slack", "h1"))
    store.record_feedback(FeedbackRecord("ref1", "typical-day", False, "slack", "h1"))
    store.record_feedback(FeedbackRecord("ref1", "typical-day", True, "slack", "h2"))
    await store.flush()
    rows = await store.fetch("SELECT user_hash, helpful FROM feedback ORDER BY user_hash")
    assert [tuple(r) for r in rows] == [("h1", 0), ("h2", 1)]


async def test_replies_keep_flowing_while_the_database_is_read_only(service: Service) -> None:
    store = service.store
    await store._db.execute("PRAGMA query_only = ON")  # the database refuses writes from here on
    replies = await asyncio.gather(*(service.ask(Question(f"do I need a PhD? {i}")) for i in range(50)))
    assert all(r.text for r in replies)
    assert not await store.flush()
    assert store.pending == 50 and store.health()["state"] == "degraded"
    await store._db.execute("PRAGMA query_only = OFF")  # writable again
    assert await store.flush()
    assert store.pending == 0 and store.health()["state"] == "ok"
    assert len(await store.fetch("SELECT 1 FROM questions")) == 50


async def test_a_locked_database_delays_rows_but_loses_none(db_path: Path, knowledge) -> None:
    store = await Store(db_path, busy_timeout=0.05, flush_interval=0.02).open()
    service = Service(knowledge, store)
    blocker = sqlite3.connect(db_path, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(20):
            assert (await service.ask(Question(f"salary? {i}"))).text
        await asyncio.sleep(0.2)
        assert store.pending == 20 and "locked" in (store.last_error or "")
    finally:
        blocker.rollback()
        blocker.close()
    for _ in range(100):
        if store.pending == 0:
            break
        await asyncio.sleep(0.05)
    assert len(await store.fetch("SELECT 1 FROM questions")) == 20
    await store.close()


async def test_queue_is_bounded_and_counts_what_it_drops(db_path: Path) -> None:
    store = Store(db_path, max_pending=10)  # never opened: nothing can be written
    for i in range(25):
        store.record(_row(str(i)))
    assert store.pending == 10 and store.dropped == 15


async def test_rows_queued_at_close_are_written(db_path: Path) -> None:
    store = await Store(db_path, flush_interval=60).open()
    for i in range(5):
        store.record(_row(str(i)))
    await store.close()
    async with Store(db_path) as again:
        assert len(await again.fetch("SELECT 1 FROM questions")) == 5


async def test_purge_removes_only_old_rows(store: Store) -> None:
    store.record(_row("old", asked_at="2020-01-01T00:00:00+00:00"))
    store.record(_row("new"))
    await store.flush()
    assert await store.purge(timedelta(days=90)) == 1
    assert [r["text"] for r in await store.fetch("SELECT text FROM questions")] == ["new"]


async def test_a_database_that_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    import pytest

    from bot.store import StoreError

    with pytest.raises(StoreError, match="cannot open the question log"):
        await Store(tmp_path / "missing-dir" / "x.db").open()


async def test_review_tools_read_safely_while_the_bot_writes(db_path: Path, knowledge) -> None:
    from bot import review

    writer = await Store(db_path, flush_interval=0.005).open()
    service = Service(knowledge, writer)
    reader = await Store(db_path).open(writer=False)

    async def ask_many() -> None:
        for i in range(300):
            await service.ask(Question(f"what is the best cat food brand {i % 7}", platform="slack"))
            if i % 20 == 0:
                await asyncio.sleep(0.01)

    async def read_many() -> int:
        seen = 0
        for _ in range(20):
            seen = sum(c.count for c in await review.clusters(reader))
            await review.stats(reader)
            await asyncio.sleep(0.01)
        return seen

    _, seen = await asyncio.gather(ask_many(), read_many())
    await writer.close()
    final = await review.clusters(reader)
    await reader.close()
    assert 0 < seen <= 300
    assert sum(c.count for c in final) == 300
    assert len(final) <= 7  # near-duplicates are grouped
