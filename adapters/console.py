"""The local chat in a terminal: the same service every platform uses, no tokens, no network."""

from __future__ import annotations

import textwrap
from collections.abc import Callable

from bot.models import Entry, Question, Reply, ReplyKind
from bot.service import TRUNCATED_NOTE, Service

WIDTH = 88
PROMPT = "you> "
HELP = "Type a question. A number picks one of the questions listed; + or - rates the last answer; /quit leaves."


def _wrap(text: str, indent: str = "") -> str:
    return "\n".join(textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent)) or indent


def render(reply: Reply) -> str:
    """A reply as plain text, with numbered choices where there are any."""
    lines: list[str] = []
    if reply.truncated:
        lines.append(_wrap(TRUNCATED_NOTE))
    if reply.kind is ReplyKind.ANSWER and reply.entry is not None:
        lines += [
            reply.entry.title,
            _wrap(reply.text, "  "),
            _wrap("Source: " + "; ".join(s.cite() for s in reply.entry.sources)),
        ]
    else:
        lines.append(_wrap(reply.text))
    choices = choices_of(reply)
    if choices:
        heading = {
            ReplyKind.ANSWER: "Related questions:",
            ReplyKind.GREETING: "Try asking:",
            ReplyKind.UNKNOWN: "Questions I can answer include:",
        }.get(reply.kind)
        if heading:
            lines.append(heading)
        lines += [f"  {i}. {entry.title}" for i, entry in enumerate(choices, 1)]
    return "\n".join(lines)


def choices_of(reply: Reply) -> tuple[Entry, ...]:
    """The entries a number picks: suggestions, related questions, or the examples to try."""
    if reply.kind is ReplyKind.SUGGEST:
        return reply.suggestions
    return reply.related if reply.kind is ReplyKind.ANSWER else reply.examples


async def chat(service: Service, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> None:
    """Run the chat until end of input or /quit."""
    write(f"careerbot: ask about machine-learning careers. {HELP}")
    last: Reply | None = None
    while True:
        try:
            line = read(PROMPT).strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if line in {"/quit", "/exit", "/q"}:
            return
        if line in {"/help", "?"}:
            write(HELP)
            continue
        if last is not None and line in {"+", "-"} and last.entry is not None:
            write(
                await service.feedback(
                    ref=last.ref, entry_id=last.entry.id, helpful=line == "+", platform="console", user_id="local"
                )
            )
            continue
        question = Question(line, platform="console", user_id="local")
        choices = choices_of(last) if last else ()
        if line.isdigit() and 1 <= int(line) <= len(choices):
            last = await service.pick(choices[int(line) - 1].id, question)
        else:
            last = await service.ask(question)
        assert last is not None
        write(render(last))
        write("")
