"""The Discord adapter: discord.py slash commands, mentions, DMs and buttons translated into ``Service`` calls.

It decides nothing about answers: it builds ``Question`` values, hands them to
the service and renders the ``Reply`` as an embed with persistent components
(``adapters.discord_render``).

* ``/ask question: [public:]``: autocomplete from the knowledge; deferred at once, answered privately by default.
* ``/topics``: select menus of every question the bot can answer; picking one shows its answer.
* mentions and DMs: answered as a reply. Nothing else is read, so no privileged intent is needed.
* buttons: did-you-mean and related questions (``Service.pick``), helpful / not helpful (``Service.feedback``);
  their custom ids carry their state, so they keep working after a restart.
* ``/unanswered`` and ``/careerbot-stats`` for maintainers (Manage Server, or ``DISCORD_MAINTAINER_ROLE``).
* ``serve``: logs in with ``DISCORD_TOKEN`` and runs until cancelled; commands are synced only when asked.
"""

from __future__ import annotations

import logging
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from adapters.discord_render import (
    NO_PINGS,
    PERSISTENT_ITEMS,
    Rendered,
    choice,
    render,
    report_embed,
    topics_embed,
    topics_view,
)
from bot.config import Settings
from bot.models import Question
from bot.review import format_clusters, format_stats
from bot.service import Service

__all__ = [
    "CareerBot",
    "RateLimit",
    "Rendered",
    "build_client",
    "invite_url",
    "invite_url_for_token",
    "render",
    "serve",
    "to_question",
]

log = logging.getLogger(__name__)

QUESTIONS_PER_WINDOW = 5
WINDOW_SECONDS = 30.0
INVITE_PERMISSIONS = discord.Permissions(
    send_messages=True, send_messages_in_threads=True, embed_links=True, read_message_history=True
)

APOLOGY = "Sorry, something went wrong on my side while answering that. It has been logged; please try again later."
SLOW_DOWN = "You're asking faster than I can keep up. Please wait {seconds} seconds, then ask again."
REFUSAL = (
    "Sorry, `/{command}` is only for careerbot's maintainers (Manage Server, or the maintainer role). "
    "To ask me something, use `/ask`."
)
GONE = "Sorry, that answer is no longer in my knowledge base. Try asking again with `/ask`."
NO_LOG = "The question log is not available."


def to_question(source: discord.Interaction[Any] | discord.Message, text: str | None = None) -> Question:
    """A message (its content) or an interaction (``text``, e.g. the /ask option) as a Question."""
    if isinstance(source, discord.Message):
        user, channel_id, guild_id = source.author, source.channel.id, source.guild.id if source.guild else None
        text = source.content if text is None else text
    else:
        user, channel_id, guild_id = source.user, source.channel_id, source.guild_id
    return Question(
        text=text or "",
        platform="discord",
        user_id=str(user.id),
        channel_id=str(channel_id) if channel_id else None,
        workspace_id=str(guild_id) if guild_id else None,
    )


def invite_url(application_id: int) -> str:
    """The OAuth2 URL that adds the bot to a server, with only the permissions it uses."""
    return discord.utils.oauth_url(
        application_id, permissions=INVITE_PERMISSIONS, scopes=("bot", "applications.commands")
    )


async def invite_url_for_token(token: str) -> str:
    """``invite_url`` for the application a bot token belongs to (logs in over REST only, no gateway)."""
    client = discord.Client(intents=discord.Intents.none())
    async with client:
        await client.login(token)
        assert client.application_id is not None
        return invite_url(client.application_id)


class RateLimit:
    """At most ``rate`` questions per ``per`` seconds for each user (slash commands and messages alike)."""

    def __init__(self, rate: int = QUESTIONS_PER_WINDOW, per: float = WINDOW_SECONDS) -> None:
        self.rate, self.per = rate, per
        self._hits: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def retry_after(self, user_id: int, now: float | None = None) -> float:
        """0 if the user may ask now (and count it), else the seconds until they may."""
        now = time.monotonic() if now is None else now
        if len(self._hits) > 10_000:  # forget idle users
            self._hits = {u: h for u, h in self._hits.items() if h and now - h[-1] < self.per}
            self._warned = {u: t for u, t in self._warned.items() if now - t < self.per}
        hits = self._hits.setdefault(user_id, deque())
        while hits and now - hits[0] >= self.per:
            hits.popleft()
        if len(hits) < self.rate:
            hits.append(now)
            self._warned.pop(user_id, None)
            return 0.0
        return self.per - (now - hits[0])

    def first_warning(self, user_id: int, now: float | None = None) -> bool:
        """True once per window of refusals, so a flood of mentions gets one "slow down", not one each."""
        now = time.monotonic() if now is None else now
        if now - self._warned.get(user_id, -math.inf) < self.per:
            return False
        self._warned[user_id] = now
        return True


class NotMaintainer(app_commands.CheckFailure):
    """A maintainer command used by someone else."""


async def _send_private(interaction: discord.Interaction[Any], text: str) -> None:
    """An ephemeral message, as the first response or as a follow-up, whichever is still possible."""
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)


async def apologise(interaction: discord.Interaction[Any]) -> None:
    try:
        await _send_private(interaction, APOLOGY)
    except discord.HTTPException:
        log.warning("could not send an apology for a failed interaction", exc_info=True)


class Tree(app_commands.CommandTree["CareerBot"]):
    """Every command error becomes a reply: a refusal, or an apology plus a logged traceback."""

    async def on_error(self, interaction: discord.Interaction[CareerBot], error: app_commands.AppCommandError) -> None:
        name = interaction.command.qualified_name if interaction.command else "?"
        if isinstance(error, NotMaintainer):
            log.info("refused /%s to a non-maintainer", name)
            await _send_private(interaction, REFUSAL.format(command=name))
            return
        log.error("/%s failed", name, exc_info=getattr(error, "original", error))
        if interaction.type is discord.InteractionType.autocomplete:
            return
        await apologise(interaction)


class CareerBot(discord.Client):
    """A discord.py client with careerbot's command tree; handlers only translate to and from the service."""

    def __init__(self, service: Service, settings: Settings, *, sync: bool = False, **options: Any) -> None:
        intents = discord.Intents.default()  # guilds, guild and DM messages; not message_content (privileged)
        intents.message_content = False
        super().__init__(intents=intents, allowed_mentions=NO_PINGS, **options)
        self.service = service
        self.settings = settings
        self.sync_on_start = sync
        self.rate_limit = RateLimit()
        self.tree = Tree(self)
        _add_commands(self)

    async def setup_hook(self) -> None:
        log.info("discord: logged in as %s (application %s)", self.user, self.application_id)
        self.add_dynamic_items(*PERSISTENT_ITEMS)  # buttons and menus of earlier runs keep working
        if self.sync_on_start:
            await self.sync_commands()

    async def sync_commands(self) -> None:
        """Register the slash commands: with one test server instantly if DISCORD_GUILD_ID is set, else globally."""
        try:
            if self.settings.discord_guild_id:
                guild = discord.Object(self.settings.discord_guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("discord: synced %d commands to server %s", len(synced), guild.id)
            else:
                synced = await self.tree.sync()
                log.info("discord: synced %d commands globally (may take a while to show up)", len(synced))
        except discord.HTTPException as exc:
            log.error("discord: could not sync commands (%s); running with the commands Discord already has", exc)

    # --- questions ------------------------------------------------------------------------

    async def slowed_down(self, interaction: discord.Interaction[Any]) -> bool:
        wait = self.rate_limit.retry_after(interaction.user.id)
        if wait:
            await _send_private(interaction, SLOW_DOWN.format(seconds=math.ceil(wait)))
        return bool(wait)

    async def ask(self, interaction: discord.Interaction[Any], question: str, public: bool) -> None:
        if await self.slowed_down(interaction):
            return
        async with self.service.handling():
            await interaction.response.defer(ephemeral=not public, thinking=True)
            reply = await self.service.ask(to_question(interaction, question))
            await interaction.followup.send(**render(reply).kwargs(), ephemeral=not public)

    def is_addressed(self, message: discord.Message) -> bool:
        """A DM, or a message that mentions the bot by name (not @everyone, not a role)."""
        if message.author.bot or self.user is None or message.author.id == self.user.id:
            return False
        if message.type not in (discord.MessageType.default, discord.MessageType.reply):
            return False
        return message.guild is None or any(u.id == self.user.id for u in message.mentions)

    async def on_message(self, message: discord.Message) -> None:
        if not self.is_addressed(message):
            return
        try:
            wait = self.rate_limit.retry_after(message.author.id)
            if wait:
                if self.rate_limit.first_warning(message.author.id):
                    await message.reply(SLOW_DOWN.format(seconds=math.ceil(wait)), allowed_mentions=NO_PINGS)
                return
            async with self.service.handling():
                reply = await self.service.ask(to_question(message))
                await message.reply(**render(reply).kwargs())
        except Exception:
            log.exception("could not answer a %s", "DM" if message.guild is None else "mention")
            try:
                await message.reply(APOLOGY, allowed_mentions=NO_PINGS)
            except discord.HTTPException:
                log.warning("could not send an apology for a failed message", exc_info=True)

    # --- persistent components (called by adapters.discord_render) ------------------------

    async def entry_picked(self, interaction: discord.Interaction[Any], entry_id: str) -> None:
        """A did-you-mean button, a related question or a /topics choice: shown as privately as its message."""
        try:
            async with self.service.handling():
                message = interaction.message
                private = message is None or message.flags.ephemeral
                await interaction.response.defer(ephemeral=private, thinking=True)
                reply = await self.service.pick(entry_id, to_question(interaction))
                if reply is None:
                    await interaction.followup.send(GONE, ephemeral=True, allowed_mentions=NO_PINGS)
                    return
                await interaction.followup.send(**render(reply).kwargs(), ephemeral=private)
        except Exception:
            log.exception("could not show entry %s", entry_id)
            await apologise(interaction)

    async def feedback_pressed(
        self, interaction: discord.Interaction[Any], *, helpful: bool, ref: str, entry_id: str
    ) -> None:
        try:
            async with self.service.handling():
                thanks = await self.service.feedback(
                    ref=ref, entry_id=entry_id, helpful=helpful, platform="discord", user_id=str(interaction.user.id)
                )
                await _send_private(interaction, thanks)
        except Exception:
            log.exception("could not record feedback on %s", entry_id)
            await apologise(interaction)

    # --- maintainers ----------------------------------------------------------------------

    def is_maintainer(self, interaction: discord.Interaction[Any]) -> bool:
        member = interaction.user
        if not isinstance(member, discord.Member):
            return False
        if interaction.permissions.manage_guild:  # resolved by Discord for this member and channel
            return True
        role = (self.settings.discord_maintainer_role or "").casefold()
        return bool(role) and any(r.name.casefold() == role for r in member.roles)


def _add_commands(bot: CareerBot) -> None:
    """The slash commands, registered on ``bot.tree``."""

    @app_commands.command(name="ask", description="Ask a question about machine-learning careers")
    @app_commands.describe(
        question="Your question (pick one of the suggestions or type your own)",
        public="Post the answer in the channel for everyone (by default only you see it)",
    )
    async def ask(interaction: discord.Interaction[CareerBot], question: str, public: bool = False) -> None:
        await bot.ask(interaction, question, public)

    @ask.autocomplete("question")
    async def ask_autocomplete(
        interaction: discord.Interaction[CareerBot], current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            return [choice(entry) for entry in bot.service.complete(current, limit=25)][:25]
        except Exception:
            log.exception("autocomplete failed")
            return []

    @app_commands.command(name="topics", description="Browse the questions careerbot can answer")
    async def topics(interaction: discord.Interaction[CareerBot]) -> None:
        entries = bot.service.topics()
        await interaction.response.send_message(
            embed=topics_embed(entries), view=topics_view(entries), ephemeral=True, allowed_mentions=NO_PINGS
        )

    def maintainers_only(interaction: discord.Interaction[CareerBot]) -> bool:
        if not bot.is_maintainer(interaction):
            raise NotMaintainer()
        return True

    def maintainer_command(name: str, description: str) -> Callable[[Any], app_commands.Command[Any, Any, Any]]:
        """Hidden by default from members without Manage Server, and checked again on every use."""

        def register(func: Any) -> app_commands.Command[Any, Any, Any]:
            command = app_commands.command(name=name, description=description)(func)
            command = app_commands.default_permissions(manage_guild=True)(command)
            command = app_commands.guild_only()(command)
            return app_commands.check(maintainers_only)(command)

        return register

    async def send_report(interaction: discord.Interaction[CareerBot], title: str, report: str) -> None:
        await interaction.followup.send(embed=report_embed(title, report), ephemeral=True, allowed_mentions=NO_PINGS)

    @maintainer_command("unanswered", "Maintainers: the most frequent questions I could not answer")
    async def unanswered(interaction: discord.Interaction[CareerBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await bot.service.unanswered(limit=100)
        await send_report(interaction, "Top unanswered questions", format_clusters(found, limit=10))

    @maintainer_command("careerbot-stats", "Maintainers: how often I answer, per day and platform")
    async def stats(interaction: discord.Interaction[CareerBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await bot.service.stats()
        await send_report(interaction, "careerbot stats", format_stats(found) if found is not None else NO_LOG)

    for command in (ask, topics, unanswered, stats):
        bot.tree.add_command(command)


def build_client(service: Service, settings: Settings, *, sync: bool = False, **options: Any) -> CareerBot:
    """The Discord client with every command and persistent component registered (not yet connected).

    ``sync`` registers the slash commands with Discord at login (rate limited: not on every start).
    ``options`` go to ``discord.Client`` (e.g. ``guild_ready_timeout``).
    """
    return CareerBot(service, settings, sync=sync, **options)


async def serve(service: Service, settings: Settings, *, sync: bool = False) -> None:
    """Run the Discord bot until cancelled; the client is closed cleanly either way."""
    if not settings.discord_token:
        raise ValueError("DISCORD_TOKEN is not set")
    client = build_client(service, settings, sync=sync)
    try:
        async with client:
            await client.start(settings.discord_token)
    except discord.LoginFailure as exc:
        raise discord.LoginFailure(
            "Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal "
            "(your application → Bot → Reset Token) and set DISCORD_TOKEN to it."
        ) from exc
    finally:
        log.info("discord: connection closed")
