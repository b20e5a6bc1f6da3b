"""A loopback fake of Discord (REST + gateway) for driving the real discord.py client offline.

``FakeDiscord`` is an aiohttp server on 127.0.0.1 that serves the REST routes a bot uses
(``/api/v10/...``) and a gateway websocket. ``fake.patch(monkeypatch)`` points discord.py at it
(``Route.BASE``, ``DiscordWebSocket.DEFAULT_GATEWAY``, ``Asset.BASE``). Nothing touches the network.

    @pytest.fixture
    async def fake(monkeypatch):
        async with FakeDiscord() as fake:
            fake.patch(monkeypatch)
            yield fake

    async def test_ask(fake):
        client = make_client()                     # real discord.Client + CommandTree
        task = asyncio.create_task(client.start(BOT_TOKEN))
        try:
            await fake.wait_identified()
            callback = await fake.interact(fake.slash_command("ask", {"question": "cv"}))
            assert callback.json == {"type": 5, "data": {"flags": 64}}
            followup = await fake.wait_for_request("POST", r"/webhooks/\\d+/[^/]+")
            assert "one page" in followup.json["content"]
        finally:
            await client.close()
            await task

Reconnects: ``await fake.drop_connection()`` then ``await fake.wait_identified()``; check
``fake.resume_count`` / ``fake.identify_count`` (``FakeDiscord(allow_resume=False)`` forces a
re-IDENTIFY, which ``patch()`` makes instant by disabling discord.py's 5 s identify back-off).

Gotchas: always ``await client.close()`` (in ``finally``/fixture teardown) *before* the fake
stops; a leaked ``AutoShardedClient`` task makes event-loop teardown hang. ``on_ready`` fires
only ``guild_ready_timeout`` (default 2 s; pass e.g. ``guild_ready_timeout=0.05`` to the client)
after the last GUILD_CREATE, but interactions and messages are handled as soon as
``wait_identified()`` returns. Paths given to ``wait_for_request`` are ``re.fullmatch``-ed
against the path without ``/api/v10``. Unknown routes are recorded and answered with ``{}``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self

import discord
import yarl
from aiohttp import WSCloseCode, WSMsgType, web

if TYPE_CHECKING:
    import pytest

JSON = dict[str, Any]

BOT_TOKEN = "fake-bot-token"
BOT_USER_ID = 111111111111111111
APPLICATION_ID = 222222222222222222  # deliberately != BOT_USER_ID, to catch mix-ups
GUILD_ID = 333333333333333333
TEXT_CHANNEL_ID = 444444444444444444
DM_CHANNEL_ID = 555555555555555555  # DM channel between the bot and USER_ID
USER_ID = 666666666666666666  # the default human talking to the bot
OWNER_ID = 777777777777777777  # owner of the application and of the guild
MOD_ROLE_ID = 888888888888888888  # a guild role ("Moderators") tests can hand out
ALL_PERMISSIONS = str(discord.Permissions.all().value)
Perms = str | int | discord.Permissions  # "0", "ALL", an int bit field or a discord.Permissions
OPTION_TYPES: list[tuple[type, int]] = [(bool, 5), (int, 4), (float, 10), (str, 3)]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, *, bot: bool = False, name: str | None = None) -> JSON:
    name = name or ("careerbot" if user_id == BOT_USER_ID else f"user{user_id % 10000}")
    return {
        "id": str(user_id),
        "username": name,
        "global_name": name,
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def _perm_value(permissions: Perms) -> str:
    if isinstance(permissions, discord.Permissions):
        return str(permissions.value)
    return ALL_PERMISSIONS if permissions == "ALL" else str(int(permissions))


@dataclass
class DiscordRequest:
    """One REST request the fake received (path is relative to ``/api/v10``)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any  # JSON body, or the parsed ``payload_json`` part of a multipart body, else None
    headers: dict[str, str]  # lower-cased names
    files: list[str] = field(default_factory=list)  # file names of multipart attachments
    response: Any = None  # the JSON the fake answered with
    consumed: bool = field(default=False, repr=False)


Handler = Callable[[DiscordRequest, "re.Match[str]"], Any]


class FakeDiscord:
    """Fake Discord REST API + gateway on 127.0.0.1:<random port>."""

    def __init__(self, *, guild: bool = True, allow_resume: bool = True, heartbeat_interval_ms: int = 41250) -> None:
        self.guild = guild  # send GUILD_CREATE (guild, text channel, roles) after READY
        self.allow_resume = allow_resume  # False: answer RESUME with op 9, so the client re-identifies
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.requests: list[DiscordRequest] = []
        self.gateway_received: list[JSON] = []  # every gateway payload the client sent
        self.messages: dict[str, JSON] = {}  # message objects the bot created, by id
        self.commands: dict[int | None, dict[str, JSON]] = {}  # synced commands: guild id (None=global) -> name
        self.identify_count = 0
        self.resume_count = 0  # RESUME attempts received (successful or not)
        self.gateway_connections = 0
        self.last_identify: JSON | None = None
        self._ids = itertools.count(900000000000000000)
        self._interactions: dict[str, JSON] = {}  # interaction id -> payload dispatched
        self._originals: dict[str, str] = {}  # interaction token -> id of its original response message
        self._dm_channels: dict[int, int] = {USER_ID: DM_CHANNEL_ID}
        self._runner: web.AppRunner | None = None
        self._base = ""
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._ws_request: web.Request | None = None
        self._all_ws: set[web.WebSocketResponse] = set()
        self._session_live = asyncio.Event()
        self._session_id: str | None = None
        self._seq = 0
        self._send_lock = asyncio.Lock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = [
            (m, re.compile(p), h)
            for m, p, h in [
                ("GET", r"/users/@me", lambda r, m: self.bot_user),
                ("GET", r"/users/(\d+)", lambda r, m: user_payload(int(m[1]), bot=int(m[1]) == BOT_USER_ID)),
                ("GET", r"/oauth2/applications/@me", lambda r, m: self.application),
                ("GET", r"/gateway", lambda r, m: {"url": str(self.gateway_url)}),
                ("GET", r"/gateway/bot", self._gateway_bot),
                ("PUT", r"/applications/\d+(?:/guilds/(\d+))?/commands", self._put_commands),
                ("GET", r"/applications/\d+(?:/guilds/(\d+))?/commands", self._get_commands),
                ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._interaction_callback),
                ("POST", r"/webhooks/\d+/([^/]+)", self._followup),
                ("GET", r"/webhooks/\d+/([^/]+)/messages/(@original|\d+)", self._get_webhook_message),
                ("PATCH", r"/webhooks/\d+/([^/]+)/messages/(@original|\d+)", self._edit_webhook_message),
                ("POST", r"/channels/(\d+)/messages", self._channel_message),
                ("PATCH", r"/channels/\d+/messages/(\d+)", lambda r, m: self._edit(m[1], r.json)),
                ("GET", r"/channels/(\d+)", lambda r, m: self._channel(int(m[1]))),
                ("POST", r"/users/@me/channels", self._create_dm),
            ]
        ]

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"

    async def close(self) -> None:
        for ws in list(self._all_ws):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake discord shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self._base}/api/v10"

    @property
    def gateway_url(self) -> yarl.URL:
        """Value for ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``."""
        return yarl.URL(f"ws{self._base.removeprefix('http')}/gateway")

    def patch(self, monkeypatch: pytest.MonkeyPatch, *, fast_reidentify: bool = True) -> None:
        """Point discord.py at this fake. ``fast_reidentify`` drops the 5 s sleep discord.py's
        ``Client.before_identify_hook`` makes before every non-initial IDENTIFY."""
        monkeypatch.setattr(discord.http.Route, "BASE", self.api_base)
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", self.gateway_url)
        monkeypatch.setattr(discord.asset.Asset, "BASE", f"{self._base}/cdn")
        if fast_reidentify:

            async def no_sleep(client: discord.Client, shard_id: int | None, *, initial: bool = False) -> None:
                return None

            monkeypatch.setattr(discord.Client, "before_identify_hook", no_sleep)

    # ---------------------------------------------------------------- static objects
    @property
    def bot_user(self) -> JSON:
        return {**user_payload(BOT_USER_ID, bot=True), "verified": True, "mfa_enabled": False, "flags": 0}

    @property
    def application(self) -> JSON:
        return {
            "id": str(APPLICATION_ID),
            "name": "careerbot",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": user_payload(OWNER_ID),
            "flags": 0,
            "team": None,
            "rpc_origins": [],
        }

    def member(
        self,
        user_id: int,
        *,
        permissions: Perms | None = None,
        roles: list[int] | None = None,
    ) -> JSON:
        data: JSON = {
            "user": user_payload(user_id, bot=user_id == BOT_USER_ID),
            "roles": [str(r) for r in roles or []],
            "joined_at": "2024-01-01T00:00:00+00:00",
            "flags": 0,
            "deaf": False,
            "mute": False,
            "pending": False,
            "nick": None,
            "avatar": None,
        }
        if permissions is not None:
            data["permissions"] = _perm_value(permissions)
        return data

    def dm_channel_id(self, user_id: int) -> int:
        """The id of the DM channel between the bot and ``user_id`` (DM_CHANNEL_ID for USER_ID)."""
        if user_id not in self._dm_channels:
            self._dm_channels[user_id] = next(self._ids)
        return self._dm_channels[user_id]

    def _channel(self, channel_id: int) -> JSON:
        if channel_id in self._dm_channels.values():
            user = next(u for u, c in self._dm_channels.items() if c == channel_id)
            return {"id": str(channel_id), "type": 1, "recipients": [user_payload(user)], "last_message_id": None}
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(GUILD_ID),
            "name": "careers",
            "position": 0,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }

    def guild_payload(self) -> JSON:
        """The GUILD_CREATE payload: one text channel, @everyone and a Moderators role, the bot."""
        role = {
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
            "icon": None,
            "unicode_emoji": None,
            "colors": {"primary_color": 0},
        }
        return {
            "id": str(GUILD_ID),
            "name": "Careerbot Test Guild",
            "owner_id": str(OWNER_ID),
            "unavailable": False,
            "member_count": 2,
            "large": False,
            "icon": None,
            "features": [],
            "preferred_locale": "en-US",
            "joined_at": "2024-01-01T00:00:00+00:00",
            "roles": [
                {
                    **role,
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "position": 0,
                    "permissions": str(discord.Permissions.general().value),
                },
                {
                    **role,
                    "id": str(MOD_ROLE_ID),
                    "name": "Moderators",
                    "position": 1,
                    "permissions": str(discord.Permissions(manage_guild=True).value),
                },
            ],
            "channels": [self._channel(TEXT_CHANNEL_ID)],
            "members": [self.member(BOT_USER_ID)],
            "emojis": [],
            "stickers": [],
            "threads": [],
            "stage_instances": [],
            "voice_states": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "presences": [],
        }

    def _message_obj(
        self,
        channel_id: int | str,
        body: Mapping[str, Any],
        *,
        webhook: bool = False,
        message_id: int | str | None = None,
    ) -> JSON:
        """A message object authored by the bot, stored in ``self.messages``."""
        msg: JSON = {
            "id": str(message_id or next(self._ids)),
            "type": 0,
            "channel_id": str(channel_id),
            "author": user_payload(BOT_USER_ID, bot=True),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": body.get("flags") or 0,
            "timestamp": _now(),
            "edited_timestamp": None,
        }
        if webhook:
            msg.update(webhook_id=str(APPLICATION_ID), application_id=str(APPLICATION_ID))
        if int(channel_id) not in self._dm_channels.values():
            msg["guild_id"] = str(GUILD_ID)
        if ref := body.get("message_reference"):
            msg["message_reference"] = ref
        self.messages[msg["id"]] = msg
        return msg

    def _edit(self, message_id: str, body: Mapping[str, Any] | None) -> JSON:
        msg = self.messages.get(message_id) or self._message_obj(TEXT_CHANNEL_ID, {}, message_id=message_id)
        for key in ("content", "embeds", "components", "flags"):
            if body and key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        msg["flags"] = (msg.get("flags") or 0) & ~128  # editing clears "loading"
        msg["edited_timestamp"] = _now()
        return msg

    # ---------------------------------------------------------------- REST
    async def _rest(self, request: web.Request) -> web.Response:
        body: Any = None
        files: list[str] = []
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            elif request.content_type.startswith("multipart/"):
                for name, value in (await request.post()).items():
                    if isinstance(value, web.FileField):
                        files.append(value.filename)
                    elif name == "payload_json":
                        body = json.loads(value)
        path = request.path.removeprefix("/api/v10")
        rec = DiscordRequest(
            request.method, path, dict(request.query), body, {k.lower(): v for k, v in request.headers.items()}, files
        )
        rec.response = {}
        for method, pattern, handler in self._routes:
            if method == request.method and (match := pattern.fullmatch(path)):
                rec.response = handler(rec, match)
                break
        self.requests.append(rec)
        async with self._changed:
            self._changed.notify_all()
        if request.method == "DELETE":
            return web.Response(status=204)
        # discord.py parses a body only if Content-Type is exactly "application/json"
        # (web.json_response appends "; charset=utf-8", which it would treat as text).
        return web.Response(body=json.dumps(rec.response).encode(), headers={"Content-Type": "application/json"})

    def _gateway_bot(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": str(self.gateway_url), "shards": 1, "session_start_limit": limit}

    def _put_commands(self, rec: DiscordRequest, m: re.Match[str]) -> list[JSON]:
        guild_id = int(m[1]) if m[1] else None
        old = self.commands.get(guild_id, {})
        synced: dict[str, JSON] = {}
        for cmd in rec.json or []:
            cmd_id = old[cmd["name"]]["id"] if cmd["name"] in old else str(next(self._ids))
            synced[cmd["name"]] = {
                "type": 1,
                **cmd,
                "id": cmd_id,
                "application_id": str(APPLICATION_ID),
                "version": str(next(self._ids)),
                "default_member_permissions": None,
                **({"guild_id": str(guild_id)} if guild_id else {}),
            }
            if cmd.get("default_member_permissions") is not None:
                synced[cmd["name"]]["default_member_permissions"] = cmd["default_member_permissions"]
        self.commands[guild_id] = synced
        return list(synced.values())

    def _get_commands(self, rec: DiscordRequest, m: re.Match[str]) -> list[JSON]:
        return list(self.commands.get(int(m[1]) if m[1] else None, {}).values())

    def _interaction_callback(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        interaction = self._interactions.get(m[1], {})
        body: JSON = rec.json or {}
        kind, data = body.get("type"), body.get("data") or {}
        flags = data.get("flags") or 0
        answer: JSON = {
            "interaction": {
                "id": m[1],
                "type": interaction.get("type", 2),
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind},
        }
        msg: JSON | None = None
        channel_id = interaction.get("channel_id", TEXT_CHANNEL_ID)
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            msg = self._message_obj(channel_id, data, webhook=True)
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE ("thinking")
            msg = self._message_obj(channel_id, {"flags": flags | 128}, webhook=True)
        elif kind == 7 and m[2] in self._originals:  # UPDATE_MESSAGE (component's message)
            msg = self._edit(self._originals[m[2]], data)
        if msg is not None:
            self._originals.setdefault(m[2], msg["id"])
            answer["interaction"]["response_message_id"] = msg["id"]
            answer["resource"]["message"] = msg
        return answer

    def _followup(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        interaction = next((i for i in self._interactions.values() if i["token"] == m[1]), {})
        return self._message_obj(interaction.get("channel_id", TEXT_CHANNEL_ID), rec.json or {}, webhook=True)

    def _webhook_message_id(self, token: str, ref: str) -> str:
        if ref != "@original":
            return ref
        if token not in self._originals:
            self._originals[token] = self._message_obj(TEXT_CHANNEL_ID, {}, webhook=True)["id"]
        return self._originals[token]

    def _get_webhook_message(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        return self.messages.get(self._webhook_message_id(m[1], m[2]), {})

    def _edit_webhook_message(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        return self._edit(self._webhook_message_id(m[1], m[2]), rec.json)

    def _channel_message(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        return self._message_obj(m[1], rec.json or {})

    def _create_dm(self, rec: DiscordRequest, m: re.Match[str]) -> JSON:
        user_id = int((rec.json or {})["recipient_id"])
        channel_id = self.dm_channel_id(user_id)
        return self._channel(channel_id)

    # ---------------------------------------------------------------- waiting on requests
    def find_requests(self, method: str | None = None, path_regex: str | None = None) -> list[DiscordRequest]:
        """All recorded requests (consumed or not) matching ``method`` and ``re.fullmatch(path_regex)``."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper())
            and (path_regex is None or re.fullmatch(path_regex, r.path))
        ]

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        timeout: float = 5.0,
        *,
        predicate: Callable[[DiscordRequest], bool] | None = None,
    ) -> DiscordRequest:
        """Return (and mark consumed) the first unconsumed request whose path fullmatches ``path_regex``."""

        def find() -> DiscordRequest | None:
            return next(
                (
                    r
                    for r in self.find_requests(method, path_regex)
                    if not r.consumed and (predicate is None or predicate(r))
                ),
                None,
            )

        try:
            async with self._changed:
                rec = await asyncio.wait_for(self._changed.wait_for(find), timeout)
        except TimeoutError:
            seen = [f"{r.method} {r.path}" for r in self.requests]
            raise AssertionError(f"no {method} {path_regex} within {timeout}s; requests so far: {seen}") from None
        rec.consumed = True
        return rec

    # ---------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self._all_ws.add(ws)
        self.gateway_connections += 1
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}))
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    payload = json.loads(msg.data)
                    self.gateway_received.append(payload)
                    await self._on_op(ws, request, payload["op"], payload.get("d"))
        finally:
            self._all_ws.discard(ws)
            if self._ws is ws:
                self._ws = None
                self._session_live.clear()
        return ws

    async def _on_op(self, ws: web.WebSocketResponse, request: web.Request, op: int, d: Any) -> None:
        if op == 1:  # HEARTBEAT
            await ws.send_str(json.dumps({"op": 11}))
        elif op == 2:  # IDENTIFY
            self.identify_count += 1
            self.last_identify = d
            self._session_id, self._seq = f"session-{self.identify_count}", 0
            self._ws, self._ws_request = ws, request
            ready: JSON = {
                "v": 10,
                "user": self.bot_user,
                "session_id": self._session_id,
                "resume_gateway_url": str(self.gateway_url),
                "private_channels": [],
                "guilds": [{"id": str(GUILD_ID), "unavailable": True}] if self.guild else [],
                "application": {"id": str(APPLICATION_ID), "flags": 0},
            }
            if "shard" in d:
                ready["shard"] = d["shard"]
            await self._send_dispatch(ws, "READY", ready)
            if self.guild:
                await self._send_dispatch(ws, "GUILD_CREATE", self.guild_payload())
            self._session_live.set()
        elif op == 6:  # RESUME
            self.resume_count += 1
            if self.allow_resume and d.get("session_id") == self._session_id:
                self._ws, self._ws_request = ws, request
                await self._send_dispatch(ws, "RESUMED", {})
                self._session_live.set()
            else:
                await ws.send_str(json.dumps({"op": 9, "d": False}))
        elif op == 8:  # REQUEST_GUILD_MEMBERS (members intent + chunk_guilds_at_startup)
            members = [self.member(BOT_USER_ID), self.member(USER_ID)]
            await self._send_dispatch(
                ws,
                "GUILD_MEMBERS_CHUNK",
                {
                    "guild_id": d["guild_id"],
                    "members": members,
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "nonce": d.get("nonce"),
                },
            )

    async def _send_dispatch(self, ws: web.WebSocketResponse, event: str, data: JSON) -> None:
        async with self._send_lock:
            self._seq += 1
            await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def wait_identified(self, timeout: float = 5.0) -> None:
        """Wait until a client holds a live session (READY or RESUMED sent on the current socket)."""
        try:
            await asyncio.wait_for(self._session_live.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no gateway session within {timeout}s") from None

    async def dispatch(self, event: str, data: JSON, *, timeout: float = 5.0) -> None:
        """Send a DISPATCH (op 0) to the connected client, waiting for a live session first."""
        await self.wait_identified(timeout)
        assert self._ws is not None
        if event == "INTERACTION_CREATE":
            self._interactions[data["id"]] = data
            if "message" in data:
                self.messages.setdefault(data["message"]["id"], data["message"])
                self._originals[data["token"]] = data["message"]["id"]
        await self._send_dispatch(self._ws, event, data)

    async def drop_connection(self, code: int | None = 4000) -> None:
        """Close the gateway socket: with a resumable close code, or (``code=None``) by aborting
        the TCP connection. Either way discord.py reconnects and sends RESUME."""
        ws, request = self._ws, self._ws_request
        self._ws = None
        self._session_live.clear()
        if ws is None or request is None:
            raise AssertionError("no gateway connection to drop")
        if code is None:
            assert request.transport is not None
            request.transport.abort()
        else:
            await ws.close(code=code, message=b"dropped by test")

    async def interact(self, payload: JSON, timeout: float = 5.0) -> DiscordRequest:
        """Dispatch INTERACTION_CREATE and return the interaction's callback request."""
        await self.dispatch("INTERACTION_CREATE", payload, timeout=timeout)
        return await self.wait_for_request("POST", rf"/interactions/{payload['id']}/[^/]+/callback", timeout)

    # ---------------------------------------------------------------- payload builders
    def _interaction(
        self,
        kind: int,
        data: JSON,
        user_id: int,
        guild: bool,
        permissions: Perms,
        roles: list[int] | None,
        channel_id: int | None,
        locale: str,
    ) -> JSON:
        interaction_id = str(next(self._ids))
        payload: JSON = {
            "id": interaction_id,
            "application_id": str(APPLICATION_ID),
            "type": kind,
            "token": f"itoken-{interaction_id}",
            "version": 1,
            "data": data,
            "locale": locale,
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": ALL_PERMISSIONS,
            "entitlements": [],
            "entitlement_sku_ids": [],
        }
        if guild:
            channel = self._channel(channel_id or TEXT_CHANNEL_ID)
            payload.update(
                guild_id=str(GUILD_ID),
                guild_locale="en-US",
                context=0,
                guild={"id": str(GUILD_ID), "locale": "en-US", "features": []},
                member=self.member(user_id, permissions=permissions, roles=roles),
                authorizing_integration_owners={"0": str(GUILD_ID)},
            )
        else:
            channel = self._channel(channel_id or self.dm_channel_id(user_id))
            payload.update(user=user_payload(user_id), context=1, authorizing_integration_owners={"0": str(GUILD_ID)})
        return {**payload, "channel": channel, "channel_id": channel["id"]}

    def _command_data(self, name: str, options: list[JSON], guild: bool) -> JSON:
        root, *subs = name.split()
        for i, sub in reversed(list(enumerate(subs))):  # "faq admin add" -> group "admin", subcommand "add"
            options = [{"name": sub, "type": 1 if i == len(subs) - 1 else 2, "options": options}]
        synced = self.commands.get(GUILD_ID, {}).get(root) if guild else None
        synced = synced or self.commands.get(None, {}).get(root)
        data: JSON = {
            "id": synced["id"] if synced else str(next(self._ids)),
            "name": root,
            "type": 1,
            "options": options,
        }
        if synced and "guild_id" in synced:
            data["guild_id"] = synced["guild_id"]
        return data

    @staticmethod
    def _options(options: Mapping[str, str | int | float | bool] | None) -> list[JSON]:
        return [
            {"name": k, "value": v, "type": next(t for cls, t in OPTION_TYPES if isinstance(v, cls))}
            for k, v in (options or {}).items()
        ]

    def slash_command(
        self,
        name: str,
        options: Mapping[str, str | int | float | bool] | None = None,
        *,
        user_id: int = USER_ID,
        guild: bool = True,
        permissions: Perms = "0",
        roles: list[int] | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """INTERACTION_CREATE ``d`` for ``/name``; "group sub" names build subcommand options.
        ``permissions`` is the member's resolved permissions: "0", "ALL", an int or ``discord.Permissions``."""
        data = self._command_data(name, self._options(options), guild)
        return self._interaction(2, data, user_id, guild, permissions, roles, channel_id, locale)

    def autocomplete(
        self,
        name: str,
        option: str,
        current: str,
        options: Mapping[str, str | int | float | bool] | None = None,
        *,
        user_id: int = USER_ID,
        guild: bool = True,
        permissions: Perms = "0",
        roles: list[int] | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """Autocomplete (type 4) for ``option`` of ``/name`` while the user has typed ``current``."""
        opts = [*self._options(options), {"name": option, "type": 3, "value": current, "focused": True}]
        data = self._command_data(name, opts, guild)
        return self._interaction(4, data, user_id, guild, permissions, roles, channel_id, locale)

    def component(
        self,
        custom_id: str,
        *,
        component_type: int = 2,
        values: list[str] | None = None,
        message_id: int | str | None = None,
        user_id: int = USER_ID,
        guild: bool = True,
        permissions: Perms = "0",
        roles: list[int] | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> JSON:
        """A button press (type 3). The message is the stored bot message ``message_id`` if any,
        else a fresh bot message in the interaction's channel."""
        data: JSON = {"custom_id": custom_id, "component_type": component_type}
        if values is not None:
            data["values"] = values
        payload = self._interaction(3, data, user_id, guild, permissions, roles, channel_id, locale)
        message = self.messages.get(str(message_id)) if message_id is not None else None
        if message is None:
            message = self._message_obj(payload["channel_id"], {}, message_id=message_id)
        return {**payload, "message": message}

    def select(self, custom_id: str, values: list[str], **kwargs: Any) -> JSON:
        """A string select menu choice (component_type 3); kwargs as for ``component``."""
        return self.component(custom_id, component_type=3, values=values, **kwargs)

    def modal_submit(
        self,
        custom_id: str,
        fields: Mapping[str, str],
        *,
        user_id: int = USER_ID,
        guild: bool = True,
        channel_id: int | None = None,
    ) -> JSON:
        """A modal submission (type 5): ``fields`` maps text input custom_id -> value."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in fields.items()]
        data = {"custom_id": custom_id, "components": rows}
        return self._interaction(5, data, user_id, guild, "0", None, channel_id, "en-US")

    def message(
        self,
        content: str,
        *,
        mention_bot: bool = False,
        dm: bool = False,
        author_id: int = USER_ID,
        channel_id: int | None = None,
        roles: list[int] | None = None,
    ) -> JSON:
        """MESSAGE_CREATE ``d`` from a human; ``mention_bot`` prefixes ``<@bot>`` and fills ``mentions``."""
        if mention_bot and f"<@{BOT_USER_ID}>" not in content:
            content = f"<@{BOT_USER_ID}> {content}"
        if dm:
            channel_id = channel_id or self.dm_channel_id(author_id)
        msg: JSON = {
            "id": str(next(self._ids)),
            "type": 0,
            "channel_id": str(channel_id or TEXT_CHANNEL_ID),
            "author": user_payload(author_id),
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [user_payload(BOT_USER_ID, bot=True)] if mention_bot else [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": 0,
        }
        if not dm:
            member = self.member(author_id, roles=roles)
            del member["user"]
            msg.update(guild_id=str(GUILD_ID), member=member)
        return msg
