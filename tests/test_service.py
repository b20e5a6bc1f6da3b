"""The service: every kind of reply, logging of every question, and friendly handling of bad input."""

from __future__ import annotations

import asyncio

import pytest

from bot.models import Question, ReplyKind
from bot.service import Service
from bot.store import Store


async def _rows(store: Store) -> list:
    await store.flush()
    return await store.fetch("SELECT * FROM questions ORDER BY id")


async def test_answer_carries_entry_sources_and_related(service: Service) -> None:
    reply = await service.ask(Question("do I need a PhD?", platform="discord", user_id="42", channel_id="7"))
    assert reply.kind is ReplyKind.ANSWER and reply.entry is not None
    assert reply.entry.id == "degree-requirements"
    assert reply.text == reply.entry.answer and reply.entry.sources
    assert {e.id for e in reply.related} == set(reply.entry.related)
    [row] = await _rows(service.store)
    assert (row["outcome"], row["entry_id"], row["platform"], row["channel_id"]) == (
        "answer",
        "degree-requirements",
        "discord",
        "7",
    )
    assert row["user_hash"] and row["user_hash"] != "42"


async def test_unknown_is_honest_and_logged_as_unanswered(service: Service) -> None:
    reply = await service.ask(Question("what's a good name for my new cat?"))
    assert reply.kind is ReplyKind.UNKNOWN
    assert "logged" in reply.text and "don't know" in reply.text
    [row] = await _rows(service.store)
    assert row["outcome"] == "unknown" and row["text"] == "what's a good name for my new cat?"


@pytest.mark.parametrize(
    "text",
    [
        "hi",
        "Hello there!",
        "thanks so much",
        "help",
        "what can you do?",
        "",
        "hey bot, how was your week lol",
        "@careerbot what can u even do",
        "hey, so what can you actually help me with?",
    ],
)
async def test_greetings_and_help_get_an_intro_not_an_unanswered_entry(service: Service, text: str) -> None:
    reply = await service.ask(Question(text))
    assert reply.kind is ReplyKind.GREETING and reply.examples
    [row] = await _rows(service.store)
    assert row["outcome"] == "greeting"


async def test_mentions_and_crowd_pings_are_stripped_before_matching(service: Service) -> None:
    reply = await service.ask(Question("<@U123> @everyone <!channel> do I need a PhD?"))
    assert reply.kind is ReplyKind.ANSWER
    assert "@everyone" not in reply.question and "<!channel>" not in reply.question


async def test_huge_message_is_cut_politely_and_logged(service: Service) -> None:
    reply = await service.ask(Question("how much do ML engineers earn? " * 4000))
    assert reply.truncated
    [row] = await _rows(service.store)
    assert len(row["text"]) <= 4000


@pytest.mark.parametrize(
    "text",
    ["🤖🤖🤖", "\x00\x1b[31m\u202e", "**bold** _it_ `code` <script>alert(1)</script>", "'; DROP TABLE questions; --"],
)
async def test_odd_input_gets_a_reply_and_is_stored_verbatim(service: Service, text: str) -> None:
    reply = await service.ask(Question(text))
    assert reply.kind is not ReplyKind.ANSWER and reply.text
    [row] = await _rows(service.store)
    assert row["text"] == text


async def test_pick_and_feedback(service: Service) -> None:
    picked = await service.pick("typical-day", Question("", platform="slack", user_id="U1"))
    assert picked is not None and picked.kind is ReplyKind.ANSWER and picked.entry.id == "typical-day"
    assert await service.pick("no-such-entry", Question("")) is None
    await service.store.flush()
    [logged] = await service.store.fetch("SELECT outcome, entry_id FROM questions")
    assert tuple(logged) == ("picked", "typical-day")
    thanks = await service.feedback(
        ref=picked.ref, entry_id="typical-day", helpful=False, platform="slack", user_id="U1"
    )
    assert thanks
    await service.store.flush()
    [row] = await service.store.fetch("SELECT * FROM feedback")
    assert (row["question_ref"], row["entry_id"], row["helpful"]) == (picked.ref, "typical-day", 0)


async def test_service_answers_without_a_store(knowledge) -> None:
    reply = await Service(knowledge).ask(Question("do I need a PhD?"))
    assert reply.kind is ReplyKind.ANSWER


async def test_many_concurrent_questions_are_all_logged(service: Service) -> None:
    questions = [f"do I need a PhD? #{i}" for i in range(300)] + [f"unknown thing {i} zebra" for i in range(200)]
    replies = await asyncio.gather(
        *(service.ask(Question(q, platform="slack", user_id=str(i))) for i, q in enumerate(questions))
    )
    rows = await _rows(service.store)
    assert len(rows) == len(questions) == len({r.ref for r in replies})
    assert sorted(r["text"] for r in rows) == sorted(questions)


async def test_reload_swaps_knowledge_and_keeps_old_on_error(service: Service, tmp_path) -> None:
    import shutil

    from bot.config import BUNDLED_KNOWLEDGE
    from bot.knowledge import KnowledgeError, load_knowledge

    folder = tmp_path / "k"
    shutil.copytree(BUNDLED_KNOWLEDGE, folder)
    live = Service(load_knowledge(folder))
    path = folder / "role.yaml"
    path.write_text(
        path.read_text().replace('- "whats an MLE"', '- "whats an MLE"\n      - "tell me about zorbtastic careers"')
    )
    live.reload()
    assert (await live.ask(Question("tell me about zorbtastic careers"))).entry.id == "what-is-an-ml-engineer"
    path.write_text("entries: [broken")
    with pytest.raises(KnowledgeError):
        live.reload()
    assert (await live.ask(Question("do I need a PhD?"))).kind is ReplyKind.ANSWER


async def test_empty_autocomplete_offers_the_most_asked_entries_first(service: Service) -> None:
    for _ in range(3):
        await service.ask(Question("how much do ML engineers earn?"))
    await service.pick("typical-day", Question(""))
    offered = [e.id for e in service.complete("")]
    assert offered[:2] == ["salary-and-pay", "typical-day"] and len(offered) <= 25


async def test_shutdown_waits_for_questions_in_flight(service: Service) -> None:
    finished: list[str] = []

    async def slow_handler() -> None:
        async with service.handling():
            await service.ask(Question("do I need a PhD?"))
            await asyncio.sleep(0.2)  # e.g. the platform call sending the answer
            finished.append("sent")

    task = asyncio.create_task(slow_handler())
    await asyncio.sleep(0.01)
    assert service.in_flight == 1
    assert not await service.drain(0.05)  # still busy
    assert await service.drain(2.0) and finished == ["sent"]
    await task
    assert await service.drain(0.01)  # idle: returns at once
