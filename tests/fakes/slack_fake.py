"""A loopback fake of Slack for driving the real slack-bolt / slack_sdk stack offline.

``FakeSlack`` is an aiohttp server on 127.0.0.1 that serves the Web API
(``/api/{method}``), ``response_url`` sinks and a Socket Mode websocket.
Nothing here touches the network.

HTTP mode (signed requests to ``app.web_app()``)::

    async with FakeSlack() as fake:
        app = AsyncApp(client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url),
                       signing_secret=SIGNING_SECRET)
        ...  # register listeners
        async with serve_http(app.web_app(path="/slack/events")) as base:
            body = slash_command_body("/ask", "cv tips", response_url=fake.response_url("ask"))
            async with aiohttp.ClientSession() as s:
                resp = await s.post(f"{base}/slack/events", data=body, headers=signed_headers(body))
        reply = await fake.wait_for_call("response_url")

Socket Mode (the handler reuses ``app.client``, so its ``base_url`` must be the fake)::

    async with FakeSlack() as fake:
        handler = AsyncSocketModeHandler(app, APP_TOKEN)
        await handler.connect_async()
        try:
            ack = await fake.socket_send("slash_commands", slash_command_payload(
                "/ask", "cv tips", response_url=fake.response_url("ask")))
            post = await fake.wait_for_call("chat.postMessage")
        finally:
            await handler.close_async()

Notes:

* Call ``clear_slack_env(monkeypatch)`` in tests: ``SLACK_CLIENT_ID``/``SECRET`` switch AsyncApp to
  OAuth mode, and slack_sdk sends even 127.0.0.1 traffic through ``HTTPS_PROXY`` & co. (no NO_PROXY).
* Every Web API method checks the bearer token (BOT_TOKEN; APP_TOKEN for apps.connections.open) and
  answers ``not_authed`` / ``invalid_auth`` like Slack. Bolt's per-request client adds ``team_id``
  to every call body.
* Listeners run after ``ack()`` in the background: use ``wait_for_call`` rather than asserting at once.
* Close the Socket Mode handler before leaving ``async with FakeSlack()``, or it keeps reconnecting.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode

from aiohttp import WSCloseCode, WSMsgType, web
from slack_sdk.signature import SignatureVerifier

if TYPE_CHECKING:
    import pytest

BOT_TOKEN = "xoxb-0000000001-0000000002-fakebottoken"
APP_TOKEN = "xapp-1-A0FAKEAPP-0000000003-fakeapptoken"
SIGNING_SECRET = "fake-signing-secret-0123456789abcdef"
TEAM_ID = "T0FAKETEAM"
TEAM_DOMAIN = "fake-team"
APP_ID = "A0FAKEAPP"
BOT_USER_ID = "U0FAKEBOT"
BOT_ID = "B0FAKEBOT"
USER_ID = "U0FAKEUSER"
CHANNEL_ID = "C0FAKECHAN"
DM_CHANNEL_ID = "D0FAKEDM"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
PROXY_ENV_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")

_ts_counter = itertools.count(1)


def new_ts() -> str:
    """A fresh, increasing Slack-style message timestamp ("1700000000.000001")."""
    return f"{int(time.time())}.{next(_ts_counter):06d}"


@dataclass
class SlackCall:
    """One request the fake received: a Web API call or a ``response_url`` POST."""

    method: str  # e.g. "chat.postMessage", or "response_url"
    body: dict[str, Any]  # query string + form fields or JSON object, merged
    headers: dict[str, str]  # lower-cased names
    path: str
    consumed: bool = field(default=False, repr=False)


class FakeSlack:
    """Fake Slack Web API + response_url sink + Socket Mode server on 127.0.0.1:<random>."""

    BOT_TOKEN = BOT_TOKEN
    APP_TOKEN = APP_TOKEN
    SIGNING_SECRET = SIGNING_SECRET
    TEAM_ID = TEAM_ID
    BOT_USER_ID = BOT_USER_ID
    BOT_ID = BOT_ID

    def __init__(self) -> None:
        self.calls: list[SlackCall] = []
        self.admins: set[str] = set()  # user ids reported with is_admin=True by users.info
        # Canned answers that replace the built-in one, e.g. {"chat.postMessage": {"ok": False, ...}}
        self.responses: dict[str, dict[str, Any]] = {}
        self.socket_received: list[dict[str, Any]] = []  # every JSON message a client sent
        self.socket_connections = 0
        self._runner: web.AppRunner | None = None
        self._base = ""
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._all_ws: set[web.WebSocketResponse] = set()
        self._connected = asyncio.Event()
        self._pending_acks: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # ---------------------------------------------------------------- lifecycle
    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"

    async def close(self) -> None:
        for fut in self._pending_acks.values():
            fut.cancel()
        for ws in list(self._all_ws):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"fake slack shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ---------------------------------------------------------------- URLs
    @property
    def base_url(self) -> str:
        return self._base

    @property
    def api_url(self) -> str:
        """Web API base for ``AsyncWebClient(base_url=...)``; ends with "/" (slack_sdk urljoins)."""
        return f"{self._base}/api/"

    @property
    def socket_url(self) -> str:
        return f"ws{self._base.removeprefix('http')}/socket"

    def response_url(self, name: str = "default") -> str:
        """A response_url whose POSTs are recorded as calls with method "response_url"."""
        return f"{self._base}/response/{name}"

    # ---------------------------------------------------------------- recorded calls
    def calls_for(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for_call(
        self,
        method: str,
        timeout: float = 5.0,
        predicate: Callable[[SlackCall], bool] | None = None,
    ) -> SlackCall:
        """Return (and mark consumed) the first unconsumed call to ``method`` matching ``predicate``."""

        def find() -> SlackCall | None:
            for call in self.calls:
                if call.method == method and not call.consumed and (predicate is None or predicate(call)):
                    return call
            return None

        try:
            async with self._changed:
                call = await asyncio.wait_for(self._changed.wait_for(find), timeout)
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise AssertionError(f"no matching {method!r} call within {timeout}s; calls so far: {seen}") from None
        assert call is not None  # wait_for() only returns once find() found one
        call.consumed = True
        return call

    async def _record(self, request: web.Request, method: str) -> SlackCall:
        body: dict[str, Any] = dict(request.query)
        content_type = request.content_type
        if request.can_read_body:
            if content_type == JSON:
                parsed = await request.json()
                if isinstance(parsed, dict):
                    body.update(parsed)
            else:
                body.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        call = SlackCall(method, body, {k.lower(): v for k, v in request.headers.items()}, request.path)
        self.calls.append(call)
        async with self._changed:
            self._changed.notify_all()
        return call

    # ---------------------------------------------------------------- Web API
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await self._record(request, method)
        return web.json_response(self._answer(method, call))

    @staticmethod
    def _token(call: SlackCall) -> str | None:
        auth = call.headers.get("authorization", "")
        if auth.startswith("Bearer "):
            return auth.removeprefix("Bearer ")
        token = call.body.get("token")
        return token if isinstance(token, str) else None

    def _answer(self, method: str, call: SlackCall) -> dict[str, Any]:
        token = self._token(call)
        expected = APP_TOKEN if method == "apps.connections.open" else BOT_TOKEN
        if token is None:
            return {"ok": False, "error": "not_authed"}
        if token != expected:
            return {"ok": False, "error": "invalid_auth"}
        if method in self.responses:
            return self.responses[method]
        b = call.body
        match method:
            case "auth.test":
                return {
                    "ok": True,
                    "url": f"https://{TEAM_DOMAIN}.slack.com/",
                    "team": "Fake Team",
                    "user": "careerbot",
                    "team_id": TEAM_ID,
                    "user_id": BOT_USER_ID,
                    "bot_id": BOT_ID,
                    "is_enterprise_install": False,
                }
            case "apps.connections.open":
                return {"ok": True, "url": f"{self.socket_url}?ticket={uuid.uuid4()}"}
            case "chat.postMessage":
                ts = new_ts()
                return {
                    "ok": True,
                    "channel": b.get("channel"),
                    "ts": ts,
                    "message": {
                        "type": "message",
                        "text": b.get("text", ""),
                        "user": BOT_USER_ID,
                        "bot_id": BOT_ID,
                        "ts": ts,
                        "thread_ts": b.get("thread_ts"),
                    },
                }
            case "chat.postEphemeral":
                ts = new_ts()
                return {"ok": True, "channel": b.get("channel"), "ts": ts, "message_ts": ts}
            case "chat.update":
                return {"ok": True, "channel": b.get("channel"), "ts": b.get("ts"), "text": b.get("text", "")}
            case "views.publish":
                view = b.get("view")
                view = json.loads(view) if isinstance(view, str) else dict(view or {})
                return {
                    "ok": True,
                    "view": {
                        **view,
                        "id": f"V{uuid.uuid4().hex[:10].upper()}",
                        "team_id": TEAM_ID,
                        "app_id": APP_ID,
                        "bot_id": BOT_ID,
                    },
                }
            case "users.info":
                uid = str(b.get("user", ""))
                return {
                    "ok": True,
                    "user": {
                        "id": uid,
                        "team_id": TEAM_ID,
                        "name": uid.lower(),
                        "real_name": uid,
                        "deleted": False,
                        "is_bot": False,
                        "is_admin": uid in self.admins,
                        "is_owner": False,
                        "profile": {"real_name": uid, "display_name": uid},
                    },
                }
            case "conversations.open":
                users = str(b.get("users", "")).replace(",", "")
                channel_id = str(b.get("channel") or f"D{users}")
                return {"ok": True, "channel": {"id": channel_id, "is_im": True}}
            case _:
                return {"ok": True}

    async def _response_url(self, request: web.Request) -> web.Response:
        await self._record(request, "response_url")
        return web.json_response({"ok": True})

    # ---------------------------------------------------------------- Socket Mode
    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()  # autoping answers the client's sdk-ping-pong pings
        await ws.prepare(request)
        self._all_ws.add(ws)
        self._ws = ws
        self.socket_connections += 1
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
        )
        self._connected.set()
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                self.socket_received.append(data)
                future = self._pending_acks.pop(str(data.get("envelope_id")), None)
                if future is not None and not future.done():
                    future.set_result(data)
        finally:
            self._all_ws.discard(ws)
            if self._ws is ws:
                self._ws = None
                self._connected.clear()
        return ws

    async def wait_socket_connected(self, timeout: float = 5.0) -> None:
        """Wait until a Socket Mode client is connected (and has been sent ``hello``)."""
        try:
            await asyncio.wait_for(self._connected.wait(), timeout)
        except TimeoutError:
            raise AssertionError(f"no Socket Mode client connected within {timeout}s") from None

    async def socket_send(
        self,
        envelope_type: str,
        payload: Mapping[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        """Send an envelope ("events_api", "slash_commands", "interactive") and return the client's ack.

        The ack is ``{"envelope_id": ...}`` plus ``"payload"`` when the listener acked with content.
        Bolt sends no ack at all for unhandled requests (404), so this then raises AssertionError.
        """
        await self.wait_socket_connected(timeout)
        assert self._ws is not None
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": dict(payload),
        }
        if envelope_type == "events_api":
            envelope |= {
                "accepts_response_payload": False,
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        else:
            accepts = envelope_type == "slash_commands" or payload.get("type") in (
                "view_submission",
                "block_suggestion",
            )
            envelope["accepts_response_payload"] = accepts
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        await self._ws.send_json(envelope)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise AssertionError(f"no ack for {envelope_type} envelope within {timeout}s") from None
        finally:
            self._pending_acks.pop(envelope_id, None)


# -------------------------------------------------------------------- environment / serving
def clear_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every SLACK_* and proxy variable so nothing from the developer's shell leaks in."""
    for name in list(os.environ):
        if name.startswith("SLACK_") or name in PROXY_ENV_VARS:
            monkeypatch.delenv(name, raising=False)


@asynccontextmanager
async def serve_http(app: web.Application) -> AsyncIterator[str]:
    """Serve an aiohttp app (e.g. ``bolt_app.web_app()``) on 127.0.0.1:<random>; yield its base URL."""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


# -------------------------------------------------------------------- HTTP-mode helpers
def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str | None = None,
) -> dict[str, str]:
    """Headers Slack would send with ``body``. ``content_type`` defaults to JSON for "{...}" else form."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    if content_type is None:
        content_type = JSON if body.lstrip().startswith("{") else FORM
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    assert signature is not None  # None only when timestamp or body is None
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


# Payload builders return dicts (Socket Mode envelope payloads); *_body variants are HTTP bodies.
def slash_command_payload(
    command: str,
    text: str,
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    response_url: str,
) -> dict[str, str]:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": "directmessage" if channel_id.startswith("D") else "general",
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{new_ts()}.{TEAM_ID}.fake",
    }


def slash_command_body(
    command: str,
    text: str,
    *,
    user_id: str = USER_ID,
    channel_id: str = CHANNEL_ID,
    response_url: str,
) -> str:
    """Form-encoded slash command request body (HTTP mode)."""
    return urlencode(
        slash_command_payload(command, text, user_id=user_id, channel_id=channel_id, response_url=response_url)
    )


def event_payload(event: Mapping[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An ``event_callback`` wrapping ``event`` (the Socket Mode ``events_api`` payload)."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-fake-{uuid.uuid4().hex[:8]}",
    }


def event_body(event: Mapping[str, Any], *, event_id: str | None = None) -> str:
    """JSON ``event_callback`` request body (HTTP mode)."""
    return json.dumps(event_payload(event, event_id=event_id))


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user_id: str = USER_ID,
    response_url: str,
    message: Mapping[str, Any] | None = None,
    channel_id: str = CHANNEL_ID,
    block_id: str = "actions",
) -> dict[str, Any]:
    """A button click. ``message=None`` means the button sat on an *ephemeral* message
    (e.g. a ``respond()`` answer), where Slack sends no ``message`` key."""
    message_ts = str(message["ts"]) if message is not None else new_ts()
    payload: dict[str, Any] = {
        "type": "block_actions",
        "api_app_id": APP_ID,
        "token": "legacy-verification-token",
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": message is None,
        },
        "channel": {"id": channel_id, "name": "general"},
        "trigger_id": f"{new_ts()}.{TEAM_ID}.fake",
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "text": {"type": "plain_text", "text": value},
                "action_ts": new_ts(),
            }
        ],
    }
    if message is not None:
        payload["message"] = dict(message)
    return payload


def block_actions_body(
    action_id: str,
    value: str,
    *,
    user_id: str = USER_ID,
    response_url: str,
    message: Mapping[str, Any] | None = None,
    channel_id: str = CHANNEL_ID,
    block_id: str = "actions",
) -> str:
    """Form body ``payload=<json>`` for a button click (HTTP mode)."""
    payload = block_actions_payload(
        action_id,
        value,
        user_id=user_id,
        response_url=response_url,
        message=message,
        channel_id=channel_id,
        block_id=block_id,
    )
    return urlencode({"payload": json.dumps(payload)})


# -------------------------------------------------------------------- event dicts
def app_mention(text: str, user: str = USER_ID, channel: str = CHANNEL_ID, ts: str | None = None) -> dict[str, Any]:
    """An ``app_mention`` event. Slack's text contains the mention: pass f"<@{BOT_USER_ID}> ..."."""
    ts = ts or new_ts()
    return {
        "type": "app_mention",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }


def dm_message(text: str, user: str = USER_ID, channel: str = DM_CHANNEL_ID, ts: str | None = None) -> dict[str, Any]:
    """A ``message`` event in the bot's DM (``message.im``)."""
    ts = ts or new_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }


def app_home_opened(user: str = USER_ID) -> dict[str, Any]:
    """An ``app_home_opened`` event for the Home tab."""
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": DM_CHANNEL_ID,
        "tab": "home",
        "event_ts": new_ts(),
    }
