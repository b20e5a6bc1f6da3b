"""Pure Discord rendering for the Discord adapter: a ``Reply`` in, an embed, content and components out.

Nothing here talks to Discord or to the service. The persistent components
(``FeedbackButton``, ``PickButton``, ``TopicSelect``) only carry state in their
``custom_id`` and hand a press to ``interaction.client`` (the adapter's client,
see ``Handlers``), so they keep working after a restart once the client has
registered them with ``add_dynamic_items``.

Text from users is escaped (markdown and mentions) wherever it is shown, and
Discord's limits are enforced here: embed title <= 256, description <= 4096,
field value <= 1024, embed total <= 6000, button label <= 80, select option
label <= 100, <= 5 buttons per row, <= 5 rows, <= 25 options per select.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol, cast

import discord

from bot.models import Entry, Reply, ReplyKind
from bot.service import TRUNCATED_NOTE

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
EMBED_TOTAL_LIMIT = 6000
CONTENT_LIMIT = 2000
LABEL_LIMIT = 80
OPTION_LIMIT = 100
CUSTOM_ID_LIMIT = 100
CHOICE_LIMIT = 100  # autocomplete choice name and value
BUTTONS_PER_ROW = 5
ROWS = 5
OPTIONS_PER_SELECT = 25

NO_PINGS = discord.AllowedMentions.none()

ANSWER_COLOUR = discord.Colour.blurple()
SUGGEST_COLOUR = discord.Colour.gold()
UNKNOWN_COLOUR = discord.Colour.light_grey()
GREETING_COLOUR = discord.Colour.green()


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def escape(text: str) -> str:
    """User text made inert: no markdown, no @everyone/@here/user/role mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def escape_mentions(text: str) -> str:
    """Knowledge text stays markdown, but can never ping."""
    return discord.utils.escape_mentions(text)


def bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"• {line}" for line in lines)


def code_block(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """Monospaced report text (maintainer commands) that cannot close its own block."""
    body = text.replace("```", "'''")
    room = limit - len("```\n\n```")
    return f"```\n{clip(body, room)}\n```"


# --- custom ids -----------------------------------------------------------------------------------

FEEDBACK_TEMPLATE = re.compile(r"cb:fb:(?P<helpful>[01]):(?P<ref>[A-Za-z0-9]+):(?P<entry_id>[a-z0-9-]+)")
PICK_TEMPLATE = re.compile(r"cb:pick:(?P<entry_id>[a-z0-9-]+)")
TOPICS_TEMPLATE = re.compile(r"cb:topics:(?P<page>[0-9]+)")


def feedback_id(helpful: bool, ref: str, entry_id: str) -> str:
    return f"cb:fb:{int(helpful)}:{ref}:{entry_id}"


def pick_id(entry_id: str) -> str:
    return f"cb:pick:{entry_id}"


def topics_id(page: int) -> str:
    return f"cb:topics:{page}"


class Handlers(Protocol):
    """What the persistent components need from ``interaction.client`` (the adapter's client)."""

    async def feedback_pressed(
        self, interaction: discord.Interaction[Any], *, helpful: bool, ref: str, entry_id: str
    ) -> None: ...

    async def entry_picked(self, interaction: discord.Interaction[Any], entry_id: str) -> None: ...


def _handlers(interaction: discord.Interaction[Any]) -> Handlers:
    return cast(Handlers, interaction.client)


# --- persistent components ------------------------------------------------------------------------


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=FEEDBACK_TEMPLATE):
    """👍 / 👎 under an answer: ``cb:fb:<1|0>:<ref>:<entry_id>``."""

    def __init__(self, helpful: bool, ref: str, entry_id: str, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="👍" if helpful else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=feedback_id(helpful, ref, entry_id),
            ),
            row=row,
        )
        self.helpful, self.ref, self.entry_id = helpful, ref, entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["helpful"] == "1", match["ref"], match["entry_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _handlers(interaction).feedback_pressed(
            interaction, helpful=self.helpful, ref=self.ref, entry_id=self.entry_id
        )


class PickButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PICK_TEMPLATE):
    """A "did you mean" suggestion or a related question: ``cb:pick:<entry_id>``."""

    def __init__(self, entry_id: str, label: str = "Show", *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=clip(label, LABEL_LIMIT) or "Show",
                style=discord.ButtonStyle.primary,
                custom_id=pick_id(entry_id),
            ),
            row=row,
        )
        self.entry_id = entry_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PickButton:
        return cls(match["entry_id"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _handlers(interaction).entry_picked(interaction, self.entry_id)


class TopicSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=TOPICS_TEMPLATE):
    """One page (<= 25 entries) of the /topics menu: ``cb:topics:<page>``; option values are entry ids."""

    def __init__(self, page: int, entries: Sequence[Entry] = (), *, pages: int = 1) -> None:
        placeholder = "Pick a question" + (f" ({page + 1} of {pages})" if pages > 1 else "")
        options = [
            discord.SelectOption(label=clip(e.title, OPTION_LIMIT), value=e.id) for e in entries[:OPTIONS_PER_SELECT]
        ]
        super().__init__(
            discord.ui.Select(custom_id=topics_id(page), placeholder=placeholder, options=options), row=page % ROWS
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> TopicSelect:
        return cls(int(match["page"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        values = self.item.values or (interaction.data or {}).get("values") or []
        if values:
            await _handlers(interaction).entry_picked(interaction, str(values[0]))


PERSISTENT_ITEMS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (FeedbackButton, PickButton, TopicSelect)


# --- replies --------------------------------------------------------------------------------------


class Rendered(NamedTuple):
    """What to send: pass ``kwargs()`` to ``send``/``followup.send``/``reply``."""

    embed: discord.Embed | None
    content: str | None
    view: discord.ui.View | None

    def kwargs(self) -> dict[str, Any]:
        sent: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if self.content:
            sent["content"] = self.content
        if self.embed is not None:
            sent["embed"] = self.embed
        if self.view is not None:
            sent["view"] = self.view
        return sent


def _fit(embed: discord.Embed) -> discord.Embed:
    """Shorten the description if the whole embed is over Discord's 6000-character total."""
    excess = len(embed) - EMBED_TOTAL_LIMIT
    if excess > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - excess))
    return embed


def _you_asked(embed: discord.Embed, question: str) -> None:
    if question:
        embed.add_field(name="You asked", value=f"“{escape(clip(question, 300))}”", inline=False)


def _pick_buttons(view: discord.ui.View, entries: Sequence[Entry], first_row: int) -> None:
    """Up to 5 buttons per row from ``first_row`` to the last row; the rest are left out."""
    room = (ROWS - first_row) * BUTTONS_PER_ROW
    for i, entry in enumerate(entries[:room]):
        if len(pick_id(entry.id)) <= CUSTOM_ID_LIMIT:
            view.add_item(PickButton(entry.id, entry.title, row=first_row + i // BUTTONS_PER_ROW))


def answer_embed(entry: Entry, text: str, related: Sequence[Entry] = ()) -> discord.Embed:
    """The entry's title, the answer, the sources it draws on and its related questions."""
    embed = discord.Embed(
        title=clip(entry.title, TITLE_LIMIT), description=clip(text, DESCRIPTION_LIMIT), colour=ANSWER_COLOUR
    )
    if entry.sources:
        cites = bullets(s.cite() for s in entry.sources)
        embed.add_field(name="Sources", value=clip(escape_mentions(cites), FIELD_LIMIT), inline=False)
    if related:
        embed.add_field(
            name="Related questions",
            value=clip(bullets(escape_mentions(e.title) for e in related), FIELD_LIMIT),
            inline=False,
        )
    return _fit(embed)


def render(reply: Reply) -> Rendered:
    """The Discord form of a reply: an embed, an optional note as content, and buttons (persistent)."""
    content = TRUNCATED_NOTE if reply.truncated else None
    view = discord.ui.View(timeout=None)
    if reply.kind is ReplyKind.ANSWER and reply.entry is not None:
        embed = answer_embed(reply.entry, escape_mentions(reply.text), reply.related)
        if len(feedback_id(True, reply.ref, reply.entry.id)) <= CUSTOM_ID_LIMIT:
            view.add_item(FeedbackButton(True, reply.ref, reply.entry.id, row=0))
            view.add_item(FeedbackButton(False, reply.ref, reply.entry.id, row=0))
        _pick_buttons(view, reply.related, first_row=1)
    elif reply.kind is ReplyKind.SUGGEST:
        embed = discord.Embed(description=clip(reply.text, DESCRIPTION_LIMIT), colour=SUGGEST_COLOUR)
        _you_asked(embed, reply.question)
        _pick_buttons(view, reply.suggestions, first_row=0)
    else:
        colour = GREETING_COLOUR if reply.kind is ReplyKind.GREETING else UNKNOWN_COLOUR
        embed = discord.Embed(description=clip(reply.text, DESCRIPTION_LIMIT), colour=colour)
        if reply.kind is ReplyKind.UNKNOWN:
            _you_asked(embed, reply.question)
        if reply.examples:
            name = "Try asking" if reply.kind is ReplyKind.GREETING else "Questions I can answer include"
            titles = bullets(escape_mentions(e.title) for e in reply.examples)
            embed.add_field(name=name, value=clip(titles, FIELD_LIMIT), inline=False)
            _pick_buttons(view, reply.examples, first_row=0)
    return Rendered(_fit(embed), content, view if view.children else None)


def topics_view(entries: Sequence[Entry]) -> discord.ui.View:
    """Select menus of 25 entries each (at most 5 menus, one per row)."""
    pages = [entries[i : i + OPTIONS_PER_SELECT] for i in range(0, len(entries), OPTIONS_PER_SELECT)][:ROWS]
    view = discord.ui.View(timeout=None)
    for page, chunk in enumerate(pages):
        view.add_item(TopicSelect(page, chunk, pages=len(pages)))
    return view


def topics_embed(entries: Sequence[Entry]) -> discord.Embed:
    shown = min(len(entries), OPTIONS_PER_SELECT * ROWS)
    return discord.Embed(
        title="What I can answer",
        description=(
            f"I know the answers to {len(entries)} questions about machine-learning careers. "
            "Pick one below to see its answer, or ask your own with `/ask`."
            + (f"\n(The menus show the first {shown}.)" if shown < len(entries) else "")
        ),
        colour=ANSWER_COLOUR,
    )


def report_embed(title: str, report: str) -> discord.Embed:
    """A maintainer report (unanswered clusters, stats) in a code block."""
    return discord.Embed(title=clip(title, TITLE_LIMIT), description=code_block(report), colour=UNKNOWN_COLOUR)


def choice(entry: Entry) -> discord.app_commands.Choice[str]:
    """An autocomplete choice: the entry's title as both name and value (<= 100 characters each)."""
    title = clip(entry.title, CHOICE_LIMIT)
    return discord.app_commands.Choice(name=title, value=title)
