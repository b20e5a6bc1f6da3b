"""Pure Block Kit rendering for the Slack adapter: a ``Reply`` (or a maintainer report) in, blocks out.

Every piece of text that goes out as mrkdwn passes through ``escape`` first, so
text from users or the knowledge base can never form ``<!channel>``, ``<!here>``
or ``<@U…>`` mentions. Slack's limits are enforced here: section text <= 3000
characters, button text <= 75, button value <= 2000, <= 25 elements per actions block.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.models import Entry, Reply, ReplyKind
from bot.service import TRUNCATED_NOTE

SECTION_LIMIT = 3000
BUTTON_TEXT_LIMIT = 75
VALUE_LIMIT = 2000
ACTIONS_LIMIT = 25
MESSAGE_BLOCKS_LIMIT = 50
HOME_BLOCKS_LIMIT = 100

PICK = "pick:"  # action_id prefix of suggestion / related-question buttons; the value is the entry id
FEEDBACK_UP = "feedback_up"
FEEDBACK_DOWN = "feedback_down"
SHARE = "share"

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters as entities: nothing in ``text`` can mention or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def pack(ref: str, entry_id: str) -> str:
    """A feedback/share button value: the question ref and the entry id."""
    return f"{ref}|{entry_id}"[:VALUE_LIMIT]


def unpack(value: str) -> tuple[str, str]:
    ref, _, entry_id = value.partition("|")
    return ref, entry_id


# --- building blocks ------------------------------------------------------------------------------


def chunks(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Split already-escaped text into pieces <= limit, at a line break or space where possible."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            amp = text.rfind("&", limit - 5, limit)  # never split an entity like "&amp;"
            cut = amp if amp > 0 else limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    pieces.append(text)
    return [p for p in pieces if p.strip()]


def sections(mrkdwn: str) -> list[Block]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": piece}} for piece in chunks(mrkdwn)]


def context(mrkdwn: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": chunks(mrkdwn)[0] if mrkdwn else " "}]}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, 150), "emoji": True}}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, BUTTON_TEXT_LIMIT), "emoji": True},
        "action_id": action_id,
        "value": value[:VALUE_LIMIT],
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: str, elements: list[Block]) -> Block:
    return {"type": "actions", "block_id": block_id, "elements": elements[:ACTIONS_LIMIT]}


def pick_buttons(block_id: str, entries: Iterable[Entry]) -> Block:
    return actions(block_id, [button(e.title, f"{PICK}{e.id}", e.id) for e in entries])


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {escape(line)}" for line in lines)


def code(text: str) -> list[Block]:
    """Monospaced report text (maintainer commands), escaped and split across sections."""
    body = escape(text).replace("```", "'''")
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"```{piece}```"}}
        for piece in chunks(body, SECTION_LIMIT - 6)
    ]


# --- replies --------------------------------------------------------------------------------------


def answer_blocks(entry: Entry, text: str) -> list[Block]:
    """Title, answer and a context line naming the sources."""
    blocks = sections(f"*{escape(entry.title)}*\n{escape(text)}")
    if entry.sources:
        blocks.append(context("Source: " + escape("; ".join(s.cite() for s in entry.sources))))
    return blocks


def feedback_buttons(ref: str, entry_id: str, *, shareable: bool = False) -> Block:
    value = pack(ref, entry_id)
    elements = [button("👍 Helpful", FEEDBACK_UP, value), button("👎 Not helpful", FEEDBACK_DOWN, value)]
    if shareable:
        elements.append(button("Share in channel", SHARE, value, style="primary"))
    return actions("feedback", elements)


def render_blocks(reply: Reply, *, shareable: bool = False) -> list[Block]:
    """The Block Kit form of a reply. ``shareable`` adds the "Share in channel" button (ephemeral answers)."""
    blocks: list[Block] = []
    if reply.truncated:
        blocks.append(context(escape(TRUNCATED_NOTE)))
    if reply.kind is ReplyKind.ANSWER and reply.entry is not None:
        blocks += answer_blocks(reply.entry, reply.text)
        if reply.related:
            blocks.append(context("Related questions:"))
            blocks.append(pick_buttons("related", reply.related))
        blocks.append(feedback_buttons(reply.ref, reply.entry.id, shareable=shareable))
    else:
        if reply.question and reply.kind in (ReplyKind.SUGGEST, ReplyKind.UNKNOWN):
            blocks.append(context(f"You asked: “{escape(clip(reply.question, 300))}”"))
        blocks += sections(escape(reply.text))
        if reply.kind is ReplyKind.SUGGEST and reply.suggestions:
            blocks.append(pick_buttons("suggestions", reply.suggestions))
        if reply.examples:
            blocks.append(
                context("Try asking:" if reply.kind is ReplyKind.GREETING else "Questions I can answer include:")
            )
            blocks.append(pick_buttons("examples", reply.examples))
    return blocks[:MESSAGE_BLOCKS_LIMIT]


def fallback_text(reply: Reply) -> str:
    """The message's top-level ``text`` (notifications, screen readers), escaped."""
    if reply.kind is ReplyKind.ANSWER and reply.entry is not None:
        return escape(clip(f"{reply.entry.title}\n{reply.text}", SECTION_LIMIT))
    return escape(reply.text)


def shared_blocks(entry: Entry, ref: str, user_id: str) -> list[Block]:
    """An answer someone shared into the channel from their private /ask reply."""
    return [
        context(f"<@{escape(user_id)}> shared an answer from careerbot"),
        *answer_blocks(entry, entry.answer),
        feedback_buttons(ref, entry.id),
    ][:MESSAGE_BLOCKS_LIMIT]


def home_view(topics: Iterable[str], unanswered: str | None = None) -> Block:
    """The App Home tab: what the bot answers, how to ask, and (maintainers only) unanswered questions."""
    blocks: list[Block] = [
        header("careerbot"),
        *sections(
            "I answer questions about careers in machine learning, and tell you which article each answer comes from."
        ),
        header("How to ask"),
        *sections(
            "• `/ask` followed by your question (only you see the answer, and you can share it)\n"
            "• mention me in a channel and I answer in a thread\n"
            "• or send me a direct message in the *Messages* tab"
        ),
        header("What I can answer"),
        *sections(bullets(topics)),
    ]
    if unanswered is not None:
        blocks += [{"type": "divider"}, header("Top unanswered questions (maintainers only)"), *code(unanswered)]
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS_LIMIT]}
