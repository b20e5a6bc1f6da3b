"""The real slack-bolt app from ``build_app``, driven over loopback HTTP and Socket Mode against FakeSlack.

Nothing here reaches the internet: the Web API client, response_urls and the
Socket Mode websocket all point at ``tests.fakes.slack_fake.FakeSlack``.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.web.async_client import AsyncWebClient

from adapters import slack_blocks as kit
from adapters.slack_adapter import build_app, render_blocks, serve, to_question, web_app
from bot.config import Settings
from bot.models import Entry, Reply, ReplyKind, Source
from bot.service import Service
from tests.fakes.slack_fake import (
    APP_TOKEN,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    SIGNING_SECRET,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    SlackCall,
    app_home_opened,
    app_mention,
    block_actions_body,
    block_actions_payload,
    clear_slack_env,
    dm_message,
    event_body,
    event_payload,
    new_ts,
    serve_http,
    signed_headers,
    slash_command_body,
    slash_command_payload,
)

MAINTAINER = "U0MAINTAIN"
ADMIN = "U0ADMIN"
SETTINGS = Settings(
    slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_maintainers=frozenset({MAINTAINER})
)
PINGS = ("<!channel>", "<!here>", "<!everyone>")


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeSlack]:
    clear_slack_env(monkeypatch)
    async with FakeSlack() as f:
        yield f


@pytest.fixture
def app(service: Service, fake: FakeSlack) -> Any:
    return build_app(service, SETTINGS, client=AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url))


@dataclass
class Http:
    base: str
    session: aiohttp.ClientSession

    async def post(self, body: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        async with self.session.post(
            f"{self.base}/slack/events", data=body.encode(), headers=headers or signed_headers(body)
        ) as resp:
            return resp.status, await resp.text()


@pytest.fixture
async def http(app: Any, service: Service) -> AsyncIterator[Http]:
    async with serve_http(web_app(app, service)) as base, aiohttp.ClientSession() as session:
        yield Http(base, session)


@pytest.fixture
async def sock(app: Any, fake: FakeSlack) -> AsyncIterator[FakeSlack]:
    handler = AsyncSocketModeHandler(app, APP_TOKEN)
    await handler.connect_async()
    await fake.wait_socket_connected()
    try:
        yield fake
    finally:
        await handler.close_async()


# --- helpers --------------------------------------------------------------------------------------


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def texts(blocks: list[dict[str, Any]]) -> str:
    found: list[str] = []
    for b in blocks:
        if "text" in b:
            found.append(b["text"]["text"])
        found += [e["text"] if isinstance(e["text"], str) else e["text"]["text"] for e in b.get("elements", [])]
    return "\n".join(found)


def blocks_of(call: SlackCall) -> list[dict[str, Any]]:
    blocks = call.body.get("blocks") or []
    return json.loads(blocks) if isinstance(blocks, str) else blocks


def assert_no_pings(fake: FakeSlack) -> None:
    outgoing = json.dumps([c.body for c in fake.calls], ensure_ascii=False)
    for ping in PINGS:
        assert ping not in outgoing


async def logged(service: Service) -> list[Any]:
    assert service.store is not None
    await service.store.flush()
    return await service.store.fetch("SELECT * FROM questions WHERE platform = 'slack' ORDER BY id")


async def ask_http(http: Http, fake: FakeSlack, text: str, *, user_id: str = USER_ID) -> SlackCall:
    body = slash_command_body("/ask", text, user_id=user_id, response_url=fake.response_url("ask"))
    started = time.perf_counter()
    status, payload = await http.post(body)
    assert (status, payload) == (200, "")  # a plain ack ...
    assert time.perf_counter() - started < 3  # ... inside Slack's 3 seconds
    return await fake.wait_for_call("response_url")


# --- /ask -----------------------------------------------------------------------------------------


async def test_ask_answer_is_private_with_sources_related_feedback_and_share(
    http: Http, fake: FakeSlack, service: Service
) -> None:
    reply = await ask_http(http, fake, "do I need a PhD?")
    assert reply.body["response_type"] == "ephemeral"
    blocks = blocks_of(reply)
    assert "PhD" in blocks[0]["text"]["text"]
    assert any(b["type"] == "context" and b["elements"][0]["text"].startswith("Source:") for b in blocks)
    ids = [b["action_id"] for b in buttons(blocks)]
    assert {"pick:breaking-in", kit.FEEDBACK_UP, kit.FEEDBACK_DOWN, kit.SHARE} <= set(ids)
    rows = await logged(service)
    assert (rows[-1]["outcome"], rows[-1]["entry_id"], rows[-1]["workspace_id"]) == (
        "answer",
        "degree-requirements",
        TEAM_ID,
    )
    feedback = next(b for b in buttons(blocks) if b["action_id"] == kit.FEEDBACK_UP)
    assert feedback["value"] == f"{rows[-1]['ref']}|degree-requirements"


async def test_ask_suggestion_offers_buttons_and_a_press_answers(http: Http, fake: FakeSlack, service: Service) -> None:
    reply = await ask_http(http, fake, "data")
    blocks = blocks_of(reply)
    picks = [b for b in buttons(blocks) if b["action_id"].startswith(kit.PICK)]
    assert picks and not any(b["action_id"].startswith("feedback") for b in buttons(blocks))
    assert "You asked" in texts(blocks)
    chosen = picks[0]["value"]
    body = block_actions_body(picks[0]["action_id"], chosen, response_url=fake.response_url("pick"))
    assert (await http.post(body))[0] == 200
    answer = await fake.wait_for_call("response_url")
    assert answer.body["response_type"] == "ephemeral" and answer.body["replace_original"] is False
    rows = await logged(service)
    assert [r["outcome"] for r in rows] == ["suggest", "picked"] and rows[-1]["entry_id"] == chosen
    assert f"{rows[-1]['ref']}|{chosen}" in [b["value"] for b in buttons(blocks_of(answer))]


async def test_ask_unknown_is_honest_and_logged(http: Http, fake: FakeSlack, service: Service) -> None:
    reply = await ask_http(http, fake, "what is the capital of France?")
    blocks = blocks_of(reply)
    assert "logged" in reply.body["text"]
    assert "capital of France" in texts(blocks)
    examples = buttons(blocks)  # example questions to press, nothing to rate
    assert examples and all(b["action_id"].startswith(kit.PICK) for b in examples)
    assert service.knowledge.get("degree-requirements").title in [b["text"]["text"] for b in examples]
    assert (await logged(service))[-1]["outcome"] == "unknown"


# --- mentions and DMs -----------------------------------------------------------------------------


async def test_mention_is_answered_in_a_thread(sock: FakeSlack, service: Service) -> None:
    event = app_mention(f"<@{BOT_USER_ID}> do I need a PhD?")
    ack = await sock.socket_send("events_api", event_payload(event))
    assert "envelope_id" in ack
    post = await sock.wait_for_call("chat.postMessage")
    assert (post.body["channel"], post.body["thread_ts"]) == (CHANNEL_ID, event["ts"])
    assert any(b["value"].endswith("|degree-requirements") for b in buttons(blocks_of(post)))
    assert not any(b["action_id"] == kit.SHARE for b in buttons(blocks_of(post)))  # already public
    assert (await logged(service))[-1]["channel_id"] == CHANNEL_ID


async def test_dm_is_answered_in_a_thread(http: Http, fake: FakeSlack) -> None:
    event = dm_message("how much do ML engineers earn?")
    assert (await http.post(event_body(event)))[0] == 200
    post = await fake.wait_for_call("chat.postMessage")
    assert (post.body["channel"], post.body["thread_ts"]) == (DM_CHANNEL_ID, event["ts"])
    assert any(b["value"].endswith("|salary-and-pay") for b in buttons(blocks_of(post)))


async def assert_answered_once(fake: FakeSlack, service: Service, event: dict[str, Any]) -> None:
    """After the original, its retry and a sentinel DM: one answer in the original's thread."""
    await fake.wait_for_call("chat.postMessage", predicate=lambda c: c.body["channel"] == DM_CHANNEL_ID)
    await asyncio.sleep(0.05)
    answers = [c for c in fake.calls_for("chat.postMessage") if c.body.get("thread_ts") == event["ts"]]
    assert len(answers) == 1
    assert len(await logged(service)) == 2  # the question and the sentinel, not the retry


async def test_retried_event_is_answered_once_over_http(http: Http, fake: FakeSlack, service: Service) -> None:
    event = app_mention(f"<@{BOT_USER_ID}> do I need a PhD?")
    body = json.dumps(event_payload(event, event_id="Ev0RETRIED"))
    assert (await http.post(body))[0] == 200
    retry = signed_headers(body) | {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert (await http.post(body, retry))[0] == 200
    await http.post(event_body(dm_message("what is the salary?")))
    await assert_answered_once(fake, service, event)


async def test_retried_event_is_answered_once_over_socket_mode(sock: FakeSlack, service: Service) -> None:
    event = app_mention(f"<@{BOT_USER_ID}> do I need a PhD?")
    payload = event_payload(event, event_id="Ev0RETRIED")
    await sock.socket_send("events_api", payload)
    await sock.socket_send("events_api", payload, retry_attempt=1, retry_reason="timeout")
    await sock.socket_send("events_api", event_payload(dm_message("what is the salary?")))
    await assert_answered_once(sock, service, event)


# --- buttons --------------------------------------------------------------------------------------


async def test_feedback_button_is_recorded_and_acknowledged_privately(sock: FakeSlack, service: Service) -> None:
    await sock.socket_send(
        "slash_commands", slash_command_payload("/ask", "do I need a PhD?", response_url=sock.response_url("ask"))
    )
    down = next(
        b for b in buttons(blocks_of(await sock.wait_for_call("response_url"))) if b["action_id"] == kit.FEEDBACK_DOWN
    )
    await sock.socket_send(
        "interactive",
        block_actions_payload(kit.FEEDBACK_DOWN, down["value"], response_url=sock.response_url("feedback")),
    )
    thanks = await sock.wait_for_call("response_url")
    assert thanks.body["response_type"] == "ephemeral" and thanks.body["replace_original"] is False
    assert service.store is not None
    await service.store.flush()
    rows = await service.store.fetch("SELECT question_ref, entry_id, helpful, platform, user_hash FROM feedback")
    ref = (await logged(service))[-1]["ref"]
    assert [tuple(r)[:4] for r in rows] == [(ref, "degree-requirements", 0, "slack")]
    assert rows[0]["user_hash"] and USER_ID not in rows[0]["user_hash"]


async def test_a_button_press_in_flight_is_waited_for_at_shutdown(
    sock: FakeSlack, service: Service, held_feedback: asyncio.Event
) -> None:
    await sock.socket_send(
        "interactive",
        block_actions_payload(kit.FEEDBACK_UP, "ref1|degree-requirements", response_url=sock.response_url("fb")),
    )
    for _ in range(200):
        if service.in_flight:
            break
        await asyncio.sleep(0.01)
    assert service.in_flight == 1 and not await service.drain(0.05)
    held_feedback.set()
    assert await service.drain(2.0)
    assert (await sock.wait_for_call("response_url")).body["response_type"] == "ephemeral"


async def test_share_button_posts_the_answer_in_the_channel(http: Http, fake: FakeSlack) -> None:
    reply = await ask_http(http, fake, "do I need a PhD?")
    share = next(b for b in buttons(blocks_of(reply)) if b["action_id"] == kit.SHARE)
    body = block_actions_body(kit.SHARE, share["value"], response_url=fake.response_url("share"))
    assert (await http.post(body))[0] == 200
    post = await fake.wait_for_call("chat.postMessage")
    assert post.body["channel"] == CHANNEL_ID and "thread_ts" not in post.body
    blocks = blocks_of(post)
    assert "PhD" in texts(blocks) and f"<@{USER_ID}> shared" in texts(blocks)
    assert {b["action_id"] for b in buttons(blocks)} == {kit.FEEDBACK_UP, kit.FEEDBACK_DOWN}
    assert (await fake.wait_for_call("response_url")).body["delete_original"] is True


# --- App Home and maintainers ---------------------------------------------------------------------


def published_view(call: SlackCall) -> dict[str, Any]:
    view = call.body["view"]
    return json.loads(view) if isinstance(view, str) else view


async def test_app_home_lists_topics_and_shows_maintainers_the_unanswered(sock: FakeSlack, service: Service) -> None:
    await sock.socket_send("events_api", event_payload(app_mention("what is the capital of France?")))
    await sock.wait_for_call("chat.postMessage")
    assert service.store is not None
    await service.store.flush()
    await sock.socket_send("events_api", event_payload(app_home_opened(USER_ID)))
    home = await sock.wait_for_call("views.publish")
    view = published_view(home)
    assert home.body["user_id"] == USER_ID and view["type"] == "home"
    for entry in service.topics():
        assert kit.escape(entry.title) in texts(view["blocks"])
    assert "unanswered" not in texts(view["blocks"]).lower()
    await sock.socket_send("events_api", event_payload(app_home_opened(MAINTAINER)))
    maintainer_view = published_view(await sock.wait_for_call("views.publish"))
    assert "capital of France" in texts(maintainer_view["blocks"])


async def test_maintainer_commands_are_refused_to_others(sock: FakeSlack, service: Service) -> None:
    sock.admins.add(ADMIN)

    async def careerbot(text: str, user_id: str) -> str:
        await sock.socket_send(
            "slash_commands",
            slash_command_payload("/careerbot", text, user_id=user_id, response_url=sock.response_url(user_id)),
        )
        call = await sock.wait_for_call("response_url")
        assert call.body["response_type"] == "ephemeral"
        return call.body["text"] + texts(blocks_of(call))

    assert "only for careerbot's maintainers" in await careerbot("stats", USER_ID)
    assert "only for careerbot's maintainers" in await careerbot("unanswered", USER_ID)
    assert "/careerbot stats" in await careerbot("help", USER_ID)
    await sock.wait_for_call("users.info")  # non-listed users are checked for admin rights
    assert "questions" in await careerbot("stats", MAINTAINER)
    assert "Nothing waiting" in await careerbot("unanswered", ADMIN)


# --- security -------------------------------------------------------------------------------------


async def test_forged_and_stale_requests_are_rejected(http: Http, fake: FakeSlack, service: Service) -> None:
    body = slash_command_body("/ask", "do I need a PhD?", response_url=fake.response_url())
    assert (await http.post(body, signed_headers(body, secret="not-the-secret")))[0] == 401
    assert (await http.post(body, signed_headers(body, timestamp=int(time.time()) - 600)))[0] == 401
    assert (await http.post(body.replace("PhD", "MBA"), signed_headers(body)))[0] == 401
    assert not fake.calls and not await logged(service)


async def test_channel_pings_are_never_echoed(http: Http, fake: FakeSlack, sock: FakeSlack, service: Service) -> None:
    await ask_http(http, fake, "<!channel> @here do I need a PhD? <!everyone>")
    await ask_http(http, fake, "<!here|here> what is the capital of France? & <b>")
    await fake.socket_send("events_api", event_payload(app_mention(f"<@{BOT_USER_ID}> <!channel> career @channel")))
    post = await fake.wait_for_call("chat.postMessage")
    assert "&lt;b&gt;" in json.dumps(fake.calls_for("response_url")[-1].body)
    assert post.body["thread_ts"]
    assert_no_pings(fake)
    assert len(await logged(service)) == 3


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        (f"<@{BOT_USER_ID}>", "greeting"),
        ("🎉🙂🚀", "greeting"),
        ("'; DROP TABLE questions; -- SELECT * FROM feedback", "unknown"),
        ("how much do ML engineers earn? " * 3300, "answer"),  # ~100 KB
    ],
    ids=["empty-mention", "emoji-only", "sql", "100kb"],
)
async def test_bad_input_gets_a_polite_reply_and_is_logged(
    text: str, outcome: str, sock: FakeSlack, service: Service
) -> None:
    event = app_mention(text)
    await sock.socket_send("events_api", event_payload(event))
    post = await sock.wait_for_call("chat.postMessage")
    blocks = blocks_of(post)
    assert post.body["thread_ts"] == event["ts"] and post.body["text"] and blocks
    assert all(len(b["text"]["text"]) <= kit.SECTION_LIMIT for b in blocks if b["type"] == "section")
    if len(text) > 1000:
        assert "long" in texts(blocks)  # the truncation note
    rows = await logged(service)
    assert [r["outcome"] for r in rows] == [outcome]
    assert len(rows[0]["text"]) <= 4000
    assert await service.store.fetch("SELECT COUNT(*) FROM questions")  # the table is still there


# --- HTTP extras and serve() ----------------------------------------------------------------------


async def test_healthz_and_url_verification(http: Http, service: Service) -> None:
    async with http.session.get(f"{http.base}/healthz") as resp:
        health = await resp.json()
    assert resp.status == 200
    assert health["status"] == "ok" and health["database"]["state"] == "ok"
    assert (health["knowledge_version"], health["entries"]) == (service.knowledge.version, len(service.topics()))
    body = json.dumps({"token": "x", "challenge": "chal-123", "type": "url_verification"})
    status, text = await http.post(body)
    assert status == 200 and "chal-123" in text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_serve_http_mode_runs_until_cancelled(fake: FakeSlack, service: Service) -> None:
    port = free_port()
    task = asyncio.create_task(
        serve(service, Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, port=port))
    )
    url = f"http://127.0.0.1:{port}/healthz"
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(url) as resp:
                    assert resp.status == 200
                    break
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.02)
        else:
            pytest.fail("serve() never listened")
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(url)


async def test_serve_socket_mode_answers_and_closes_on_cancel(fake: FakeSlack, service: Service) -> None:
    settings = Settings(slack_bot_token=BOT_TOKEN, slack_app_token=APP_TOKEN)
    client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.api_url)
    task = asyncio.create_task(serve(service, settings, client=client))
    await fake.socket_send("events_api", event_payload(dm_message("do I need a PhD?")))
    assert (await fake.wait_for_call("chat.postMessage")).body["channel"] == DM_CHANNEL_ID
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert fake.socket_connections == 1  # closed, not reconnecting


async def test_serve_refuses_to_start_without_credentials(service: Service) -> None:
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        await serve(service, Settings())
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        await serve(service, Settings(slack_bot_token=BOT_TOKEN))


def test_oauth_env_does_not_switch_on_oauth_mode(monkeypatch: pytest.MonkeyPatch, service: Service) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "111.222")
    monkeypatch.setenv("SLACK_CLIENT_SECRET", "shh")
    app = build_app(service, SETTINGS, client=AsyncWebClient(token=BOT_TOKEN))
    assert app.oauth_flow is None
    assert app.client.token == BOT_TOKEN


# --- pure parts -----------------------------------------------------------------------------------


@pytest.fixture
def huge_entry() -> Iterator[Entry]:
    yield Entry(
        id="x" * 40,
        title="A very long title " * 10,
        questions=("q",),
        answer="<!channel> & words " * 400,
        sources=(Source("s", "Title <b>", "A & B"),),
    )


def test_render_blocks_respects_block_kit_limits_and_escapes(huge_entry: Entry) -> None:
    related = tuple(
        Entry(id=f"e{i}", title=f"Related {i} " * 10, questions=("q",), answer="a", sources=()) for i in range(30)
    )
    reply = Reply(ReplyKind.ANSWER, "q", huge_entry.answer, "ref123", entry=huge_entry, related=related)
    blocks = render_blocks(reply, shareable=True)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")
    assert sum(b["type"] == "section" for b in blocks) >= 3
    for b in blocks:
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            assert all(len(e["text"]["text"]) <= 75 and len(e["value"]) <= 2000 for e in b["elements"])
    rendered = json.dumps(blocks) + kit.fallback_text(reply)
    assert "<!channel>" not in rendered and "&lt;!channel&gt;" in rendered and "Title &lt;b&gt;" in rendered
    assert "&amp;" in rendered and "& " not in rendered


def test_render_greeting_shows_intro_and_examples() -> None:
    examples = tuple(
        Entry(id=f"e-{i}", title=t, questions=("q",), answer="a", sources=()) for i, t in enumerate(("PhD?", "A & B"))
    )
    reply = Reply(ReplyKind.GREETING, "hi", "Hello <there>", "r", examples=examples)
    assert "Hello &lt;there&gt;" in texts(render_blocks(reply)) and "Try asking:" in texts(render_blocks(reply))
    picks = buttons(render_blocks(reply))
    assert [(b["action_id"], b["value"]) for b in picks] == [("pick:e-0", "e-0"), ("pick:e-1", "e-1")]
    assert picks[1]["text"]["text"] == "A & B"  # plain_text: Slack shows it as written


def test_to_question_reads_commands_events_and_actions() -> None:
    command = slash_command_payload("/ask", "cv tips", response_url="http://x")
    event = event_payload(app_mention("hi", ts=new_ts()))
    action = block_actions_payload("pick:x", "x", response_url="http://x")
    expected = ("slack", USER_ID, CHANNEL_ID, TEAM_ID)
    for body in (command, event, event["event"], action):
        q = to_question(body)
        assert (q.platform, q.user_id, q.channel_id, q.workspace_id) == expected
    assert to_question(command).text == "cv tips" and to_question(action).text == ""
