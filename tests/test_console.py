"""The local chat: the same service, driven the way a person types into it."""

from __future__ import annotations

from collections.abc import Iterator

from adapters.console import chat
from bot.service import Service


async def _session(service: Service, lines: list[str]) -> str:
    feed: Iterator[str] = iter(lines)
    out: list[str] = []

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    await chat(service, read=read, write=out.append)
    return "\n".join(out)


async def test_a_conversation_answers_picks_rates_and_leaves(service: Service) -> None:
    out = await _session(service, ["hi", "do I need a PhD?", "1", "+", "/quit", "never read"])
    assert "Hi! I'm careerbot" in out and "Try asking:" in out
    assert "Do I need a PhD or a Master's" in out and "Source:" in out and "Devansh" in out
    assert "How do I break into machine learning engineering?" in out  # related question 1, picked by number
    assert "Thanks, glad it helped!" in out
    await service.store.flush()
    outcomes = [r["outcome"] for r in await service.store.fetch("SELECT outcome FROM questions ORDER BY id")]
    assert outcomes == ["greeting", "answer", "picked"]
    assert len(await service.store.fetch("SELECT 1 FROM feedback WHERE helpful = 1")) == 1


async def test_an_example_from_the_greeting_is_picked_by_number(service: Service) -> None:
    out = await _session(service, ["hello", "2"])
    assert "Try asking:\n  1. Do I need a PhD" in out
    assert "  2. What does a typical day look like for a machine learning engineer?" in out
    assert "Source:" in out  # example 2 answered
    await service.store.flush()
    rows = await service.store.fetch("SELECT outcome, entry_id FROM questions ORDER BY id")
    assert [tuple(r) for r in rows] == [("greeting", None), ("picked", "typical-day")]


async def test_bad_input_gets_a_polite_reply_and_is_logged(service: Service) -> None:
    odd = ["", "x" * 100_000, "🤖🤖🤖", "\x07\x1b[2J", "@everyone <!channel>", "**bold** <b>hi</b>", "' OR 1=1; --"]
    out = await _session(service, odd)
    assert "read only its first" in out  # the 100 KB message was cut, and the reply says so
    assert out.count("I don't know that one yet") + out.count("Ask me a question") + out.count("Hi! I'm") >= 5
    await service.store.flush()
    assert len(await service.store.fetch("SELECT 1 FROM questions")) == len(odd)


async def test_end_of_input_leaves_quietly(service: Service) -> None:
    assert "careerbot:" in await _session(service, [])
