"""The Slack adapter: slack-bolt events, commands and buttons translated into ``Service`` calls.

It decides nothing about answers: it builds ``Question`` values, hands them to
the service and renders the ``Reply`` as Block Kit (``adapters.slack_blocks``).

* ``/ask <question>``: acked at once, answered privately through ``respond`` with a Share button.
* mentions and DMs: answered in a thread. Slack retries are dropped by ``event_id``.
* buttons: suggestions / related questions (``Service.pick``), helpful / not helpful (``Service.feedback``), share.
* App Home, and ``/careerbot unanswered|stats|help`` for maintainers.
* ``serve``: Socket Mode when ``SLACK_APP_TOKEN`` is set, else HTTP on ``PORT`` (``/slack/events``, ``/healthz``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters import slack_blocks as kit
from adapters.slack_blocks import render_blocks
from bot.config import Settings
from bot.models import Question
from bot.review import format_clusters, format_stats
from bot.service import Service

__all__ = ["build_app", "render_blocks", "serve", "to_question", "web_app"]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
REFUSAL = (
    "Sorry, `/careerbot {command}` is only for careerbot's maintainers. "
    "To ask me something, use `/ask` followed by your question."
)
HELP = (
    "*careerbot commands*\n"
    "• `/ask <question>`: ask about machine-learning careers (everyone)\n"
    "• `/careerbot unanswered`: the most frequent questions I could not answer (maintainers)\n"
    "• `/careerbot stats`: how often I answer, per day and platform (maintainers)\n"
    "• `/careerbot help`: this list"
)
GONE = "Sorry, that answer is no longer in my knowledge base. Try asking again with `/ask`."
SHARE_FAILED = "I couldn't post in this channel. Invite me first (`/invite @careerbot`), then try again."


def to_question(body: Mapping[str, Any]) -> Question:
    """A slash command body, an event (or its ``event_callback`` envelope) or an action body as a Question."""
    event: Mapping[str, Any] = body.get("event") or body

    def ident(value: Any) -> str | None:
        if isinstance(value, Mapping):
            value = value.get("id")
        return str(value) if value else None

    return Question(
        text=str(event.get("text") or ""),
        platform="slack",
        user_id=ident(event.get("user_id") or event.get("user")),
        channel_id=ident(event.get("channel_id") or event.get("channel")),
        workspace_id=ident(body.get("team_id") or event.get("team") or body.get("team")),
    )


class _Recent:
    """A bounded set of recently handled ids (Slack event ids), oldest forgotten first."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._ids: OrderedDict[str, None] = OrderedDict()

    def add(self, key: str) -> bool:
        """Remember ``key``; False if it was already there."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.size:
            self._ids.popitem(last=False)
        return True

    def discard(self, key: str) -> None:
        self._ids.pop(key, None)


@contextlib.contextmanager
def _without_oauth_env() -> Iterator[None]:
    """AsyncApp switches to OAuth (multi-workspace) mode if SLACK_CLIENT_ID/SECRET are set; careerbot never is."""
    saved = {name: os.environ.pop(name) for name in ("SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET") if name in os.environ}
    if saved:
        log.warning("ignoring %s: careerbot runs in one workspace with SLACK_BOT_TOKEN", ", ".join(saved))
    try:
        yield
    finally:
        os.environ.update(saved)


def build_app(service: Service, settings: Settings, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app with every listener registered. ``client`` redirects the Web API (tests)."""
    client = client or AsyncWebClient(token=settings.slack_bot_token)
    with _without_oauth_env():
        # Listeners run after ack() in the background: right for a long-running process (not FaaS).
        app = AsyncApp(
            name="careerbot",
            client=client,
            signing_secret=settings.slack_signing_secret or "",
            process_before_response=False,
        )
    if app.oauth_flow is not None:  # pragma: no cover - guarded by _without_oauth_env
        raise RuntimeError("slack-bolt went into OAuth mode")
    handled = _Recent()

    async def is_maintainer(web_client: AsyncWebClient, user_id: str | None) -> bool:
        if not user_id:
            return False
        if user_id in settings.slack_maintainers:
            return True
        try:
            user = (await web_client.users_info(user=user_id)).get("user") or {}
        except SlackApiError as exc:
            log.warning("users.info failed for a maintainer check: %s", exc.response.get("error"))
            return False
        return bool(user.get("is_admin") or user.get("is_owner"))

    async def answer_in_thread(body: dict[str, Any], event: dict[str, Any], say: Any) -> None:
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        if not handled.add(event_id):  # a retry (x-slack-retry-num) of an event already answered
            log.info("ignoring repeated Slack event %s", event_id)
            return
        try:
            async with service.handling():
                reply = await service.ask(to_question(body))
                await say(
                    text=kit.fallback_text(reply),
                    blocks=render_blocks(reply),
                    thread_ts=event.get("thread_ts") or event.get("ts"),
                )
        except BaseException:
            handled.discard(event_id)  # let Slack's retry try again
            raise

    # --- questions ------------------------------------------------------------------------

    @app.command("/ask")
    async def ask_command(ack: Any, body: dict[str, Any], respond: Any) -> None:
        await ack()
        async with service.handling():
            reply = await service.ask(to_question(body))
            await respond(
                response_type="ephemeral", text=kit.fallback_text(reply), blocks=render_blocks(reply, shareable=True)
            )

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], event: dict[str, Any], say: Any) -> None:
        await answer_in_thread(body, event, say)

    @app.event("message")
    async def on_message(body: dict[str, Any], event: dict[str, Any], say: Any) -> None:
        if event.get("channel_type") == "im" and not event.get("subtype") and not event.get("bot_id"):
            await answer_in_thread(body, event, say)

    # --- buttons --------------------------------------------------------------------------

    @app.action(re.compile(f"^{re.escape(kit.PICK)}"))
    async def on_pick(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any, say: Any) -> None:
        await ack()
        async with service.handling():
            reply = await service.pick(str(action.get("value", "")), to_question(body))
            if reply is None:
                await respond(response_type="ephemeral", replace_original=False, text=GONE)
                return
            message = body.get("message")
            if message is None:  # the button sat on a private (ephemeral) answer: answer privately too
                await respond(
                    response_type="ephemeral",
                    replace_original=False,
                    text=kit.fallback_text(reply),
                    blocks=render_blocks(reply, shareable=True),
                )
            else:
                await say(
                    text=kit.fallback_text(reply),
                    blocks=render_blocks(reply),
                    thread_ts=message.get("thread_ts") or message.get("ts"),
                )

    @app.action(re.compile(f"^(?:{kit.FEEDBACK_UP}|{kit.FEEDBACK_DOWN})$"))
    async def on_feedback(ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        await ack()
        async with service.handling():
            ref, entry_id = kit.unpack(str(action.get("value", "")))
            thanks = await service.feedback(
                ref=ref,
                entry_id=entry_id,
                helpful=action["action_id"] == kit.FEEDBACK_UP,
                platform="slack",
                user_id=to_question(body).user_id,
            )
            await respond(response_type="ephemeral", replace_original=False, text=kit.escape(thanks))

    @app.action(kit.SHARE)
    async def on_share(
        ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any
    ) -> None:
        await ack()
        ref, entry_id = kit.unpack(str(action.get("value", "")))
        entry = service.entry(entry_id)
        question = to_question(body)
        if entry is None or question.channel_id is None:
            await respond(response_type="ephemeral", replace_original=False, text=GONE)
            return
        try:
            await client.chat_postMessage(
                channel=question.channel_id,
                text=kit.escape(entry.title),
                blocks=kit.shared_blocks(entry, ref, question.user_id or ""),
            )
        except SlackApiError as exc:
            log.warning("could not share an answer: %s", exc.response.get("error"))
            await respond(response_type="ephemeral", replace_original=False, text=SHARE_FAILED)
            return
        await respond(delete_original=True)  # the private copy is now in the channel

    # --- App Home and maintainers ---------------------------------------------------------

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event.get("user")
        unanswered = format_clusters(await service.unanswered()) if await is_maintainer(client, user_id) else None
        await client.views_publish(user_id=user_id, view=kit.home_view((e.title for e in service.topics()), unanswered))

    @app.command("/careerbot")
    async def careerbot_command(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        command = (str(body.get("text") or "").strip().lower().split() or ["help"])[0]
        if command not in {"unanswered", "stats"}:
            await respond(response_type="ephemeral", text="careerbot commands", blocks=kit.sections(HELP))
            return
        if not await is_maintainer(client, body.get("user_id")):
            await respond(response_type="ephemeral", text=REFUSAL.format(command=command))
            return
        if command == "unanswered":
            found = await service.unanswered(limit=100)
            report = format_clusters(found, limit=10)
        else:
            stats = await service.stats()
            report = format_stats(stats) if stats is not None else "The question log is not available."
        await respond(
            response_type="ephemeral", text=f"careerbot {command}", blocks=kit.code(report)[: kit.MESSAGE_BLOCKS_LIMIT]
        )

    return app


def web_app(app: AsyncApp, service: Service) -> web.Application:
    """HTTP mode: Slack's requests at POST /slack/events (signatures checked by Bolt), and GET /healthz."""

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(request: web.Request) -> web.Response:
        database = service.store.health() if service.store is not None else {"state": "disabled"}
        return web.json_response(
            {
                "status": "ok" if database["state"] in {"ok", "disabled"} else "degraded",
                "knowledge_version": service.knowledge.version,
                "entries": len(service.knowledge.entries),
                "database": database,
            }
        )

    application = web.Application()
    application.router.add_post(EVENTS_PATH, events)
    application.router.add_get("/healthz", healthz)
    return application


async def serve(service: Service, settings: Settings, *, client: AsyncWebClient | None = None) -> None:
    """Run the Slack adapter until cancelled: Socket Mode if SLACK_APP_TOKEN is set, else HTTP on PORT."""
    if not settings.slack_bot_token and client is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)")
    app = build_app(service, settings, client=client)
    if settings.slack_app_token:
        handler = AsyncSocketModeHandler(app, settings.slack_app_token)
        try:
            await handler.connect_async()
            log.info("slack: connected in Socket Mode")
            await asyncio.Event().wait()
        finally:
            await handler.close_async()
            log.info("slack: Socket Mode connection closed")
    else:
        runner = web.AppRunner(web_app(app, service), shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, "0.0.0.0", settings.port).start()
            log.info("slack: HTTP mode on 0.0.0.0:%d%s (health: /healthz)", settings.port, EVENTS_PATH)
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()
            log.info("slack: HTTP server stopped")
