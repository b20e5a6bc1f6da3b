"""The real discord.py client from ``build_client`` (and ``serve``), connected to FakeDiscord on 127.0.0.1.

Nothing here reaches the internet: ``fake.patch`` points discord.py's REST base
and gateway URL at ``tests.fakes.discord_fake.FakeDiscord``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import discord
import pytest
from aiohttp import web

from adapters import discord_render as dr
from adapters.discord_adapter import (
    APOLOGY,
    INVITE_PERMISSIONS,
    CareerBot,
    RateLimit,
    build_client,
    invite_url,
    invite_url_for_token,
    render,
    serve,
)
from bot.config import Settings
from bot.knowledge import Knowledge
from bot.models import Entry, Reply, ReplyKind, Source
from bot.service import Service
from bot.store import Store
from tests.fakes.discord_fake import (
    APPLICATION_ID,
    BOT_TOKEN,
    DM_CHANNEL_ID,
    GUILD_ID,
    MOD_ROLE_ID,
    OWNER_ID,
    TEXT_CHANNEL_ID,
    USER_ID,
    DiscordRequest,
    FakeDiscord,
)

SETTINGS = Settings(discord_token=BOT_TOKEN, discord_maintainer_role="Moderators")
EPHEMERAL = 64
MESSAGE_CONTENT_INTENT = 1 << 15
JSON = dict[str, Any]


# --- fixtures -------------------------------------------------------------------------------------


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as f:
        f.patch(monkeypatch)
        yield f


@contextlib.asynccontextmanager
async def running(service: Service, settings: Settings = SETTINGS, *, sync: bool = False) -> AsyncIterator[CareerBot]:
    """A client from build_client, logged in to the fake; closed (before the fake stops) on exit."""
    client = build_client(service, settings, sync=sync, guild_ready_timeout=0.05)
    task = asyncio.create_task(client.start(BOT_TOKEN))
    try:
        yield client
    finally:
        await client.close()
        await task


@pytest.fixture
async def bot(fake: FakeDiscord, service: Service) -> AsyncIterator[FakeDiscord]:
    async with running(service):
        await fake.wait_identified()
        yield fake


# --- helpers --------------------------------------------------------------------------------------


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


async def respond(fake: FakeDiscord, payload: JSON) -> DiscordRequest:
    """Dispatch an interaction; its first response must come inside Discord's 3 seconds."""
    started = time.perf_counter()
    callback = await fake.interact(payload)
    assert time.perf_counter() - started < 3
    return callback


async def followup_of(fake: FakeDiscord, payload: JSON) -> DiscordRequest:
    return await fake.wait_for_request("POST", rf"/webhooks/{APPLICATION_ID}/{payload['token']}")


async def ask(
    fake: FakeDiscord, question: str, *, public: bool | None = None, **kwargs: Any
) -> tuple[DiscordRequest, DiscordRequest]:
    """/ask: the callback (a deferral) and the follow-up carrying the answer. ``kwargs`` go to slash_command."""
    options: dict[str, str | bool] = {"question": question} | ({"public": public} if public is not None else {})
    payload = fake.slash_command("ask", options, **kwargs)
    callback = await respond(fake, payload)
    assert callback.json["type"] == 5  # deferred ("thinking") before any work
    return callback, await followup_of(fake, payload)


async def replied(fake: FakeDiscord, channel_id: int = TEXT_CHANNEL_ID) -> DiscordRequest:
    return await fake.wait_for_request("POST", rf"/channels/{channel_id}/messages")


def embed(req: DiscordRequest) -> JSON:
    [only] = req.json["embeds"]
    return only


def fields(e: JSON) -> dict[str, str]:
    return {f["name"]: f["value"] for f in e.get("fields", [])}


def custom_ids(body: JSON) -> list[str]:
    return [c["custom_id"] for row in body.get("components") or [] for c in row["components"]]


def flags(body: JSON) -> int:
    return int((body.get("data") or body).get("flags") or 0)


async def logged(service: Service) -> list[Any]:
    assert service.store is not None
    await service.store.flush()
    return await service.store.fetch("SELECT * FROM questions WHERE platform = 'discord' ORDER BY id")


# --- login and command sync -----------------------------------------------------------------------


async def test_login_identifies_without_privileged_intents_and_syncs_nothing(bot: FakeDiscord) -> None:
    assert bot.find_requests("GET", "/users/@me")[0].headers["authorization"] == f"Bot {BOT_TOKEN}"
    intents = bot.last_identify["intents"]
    assert not intents & MESSAGE_CONTENT_INTENT
    assert intents == discord.Intents.default().value & ~MESSAGE_CONTENT_INTENT
    await asyncio.sleep(0.05)
    assert not bot.find_requests("PUT") and not bot.commands  # commands are synced only when asked


async def test_sync_without_a_guild_is_global(fake: FakeDiscord, service: Service) -> None:
    async with running(service, sync=True):
        put = await fake.wait_for_request("PUT", rf"/applications/{APPLICATION_ID}/commands")
    assert {c["name"] for c in put.json} == {"ask", "topics", "unanswered", "careerbot-stats"}
    assert set(fake.commands) == {None}


async def test_serve_syncs_to_the_test_guild_answers_and_closes_on_cancel(fake: FakeDiscord, service: Service) -> None:
    settings = Settings(discord_token=BOT_TOKEN, discord_guild_id=GUILD_ID)
    task = asyncio.create_task(serve(service, settings, sync=True))
    put = await fake.wait_for_request("PUT", rf"/applications/{APPLICATION_ID}/guilds/{GUILD_ID}/commands")
    synced = {c["name"]: c for c in put.json}
    assert set(synced) == {"ask", "topics", "unanswered", "careerbot-stats"}
    manage_guild = discord.Permissions(manage_guild=True).value
    assert int(synced["unanswered"]["default_member_permissions"]) == manage_guild
    assert int(synced["careerbot-stats"]["default_member_permissions"]) == manage_guild
    assert synced["ask"].get("default_member_permissions") is None
    options = {o["name"]: o for o in synced["ask"]["options"]}
    assert options["question"]["autocomplete"] is True and options["public"]["required"] is False
    assert not fake.find_requests("PUT", rf"/applications/{APPLICATION_ID}/commands")  # not global too

    await fake.dispatch("MESSAGE_CREATE", fake.message("do I need a PhD?", dm=True))
    assert "PhD" in embed(await replied(fake, DM_CHANNEL_ID))["title"]
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(AssertionError):  # the gateway session is closed and not coming back
        await fake.wait_identified(timeout=0.2)
    assert fake.gateway_connections == 1


async def test_serve_rejects_a_bad_token_clearly(monkeypatch: pytest.MonkeyPatch, service: Service) -> None:
    async def unauthorized(request: web.Request) -> web.Response:
        body = json.dumps({"message": "401: Unauthorized", "code": 0}).encode()
        return web.Response(status=401, body=body, headers={"Content-Type": "application/json"})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", unauthorized)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://{host}:{port}/api/v10")
        with pytest.raises(discord.LoginFailure, match="DISCORD_TOKEN"):
            await asyncio.wait_for(serve(service, Settings(discord_token="not-a-token")), 5)
    finally:
        await runner.cleanup()
    with pytest.raises(ValueError, match="DISCORD_TOKEN"):
        await serve(service, Settings())


async def test_invite_url_has_the_scopes_and_only_the_permissions_used(fake: FakeDiscord) -> None:
    url = invite_url(APPLICATION_ID)
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [str(APPLICATION_ID)]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms == INVITE_PERMISSIONS
    assert perms.send_messages and perms.send_messages_in_threads and perms.embed_links
    assert perms.read_message_history and not perms.administrator and not perms.mention_everyone
    assert await invite_url_for_token(BOT_TOKEN) == url  # the application id comes from Discord


# --- /ask -----------------------------------------------------------------------------------------


async def test_ask_answers_privately_with_sources_related_and_feedback(bot: FakeDiscord, service: Service) -> None:
    callback, answer = await ask(bot, "do I need a PhD?")
    assert callback.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert flags(answer.json) & EPHEMERAL
    assert answer.json["allowed_mentions"] == {"parse": []}
    e = embed(answer)
    entry = service.knowledge.get("degree-requirements")
    assert e["title"] == entry.title and e["description"].startswith(entry.answer[:50])
    assert all(s.cite() in fields(e)["Sources"] for s in entry.sources)
    assert "Related questions" in fields(e)
    [row] = await logged(service)
    assert (row["outcome"], row["entry_id"], row["workspace_id"], row["channel_id"]) == (
        "answer",
        "degree-requirements",
        str(GUILD_ID),
        str(TEXT_CHANNEL_ID),
    )
    ids = custom_ids(answer.json)
    assert ids[:2] == [f"cb:fb:1:{row['ref']}:degree-requirements", f"cb:fb:0:{row['ref']}:degree-requirements"]
    assert {f"cb:pick:{r}" for r in entry.related} <= set(ids)


async def test_ask_public_posts_for_everyone(bot: FakeDiscord) -> None:
    callback, answer = await ask(bot, "do I need a PhD?", public=True)
    assert not flags(callback.json) & EPHEMERAL and not flags(answer.json) & EPHEMERAL
    assert "PhD" in embed(answer)["title"]


async def test_ask_suggestion_offers_did_you_mean_buttons_and_a_press_answers(
    bot: FakeDiscord, service: Service
) -> None:
    _, suggestion = await ask(bot, "data")
    e = embed(suggestion)
    assert "data" in fields(e)["You asked"]
    ids = custom_ids(suggestion.json)
    assert ids and all(i.startswith("cb:pick:") for i in ids)  # nothing to rate yet
    chosen = ids[0].removeprefix("cb:pick:")
    press = bot.component(ids[0], message_id=suggestion.response["id"])
    callback = await respond(bot, press)
    assert callback.json == {"type": 5, "data": {"flags": EPHEMERAL}}  # the suggestion was private, so is this
    answer = await followup_of(bot, press)
    assert embed(answer)["title"] == service.knowledge.get(chosen).title
    rows = await logged(service)
    assert rows[0]["outcome"] == "suggest" and len(rows) == 2 and rows[-1]["entry_id"] == chosen
    assert f"cb:fb:1:{rows[-1]['ref']}:{chosen}" in custom_ids(answer.json)


async def test_ask_unknown_is_honest_logged_and_offers_examples_to_press(bot: FakeDiscord, service: Service) -> None:
    _, reply = await ask(bot, "what is the capital of France?")
    e = embed(reply)
    assert "logged" in e["description"] and "capital of France" in fields(e)["You asked"]
    assert service.knowledge.get("degree-requirements").title in "".join(fields(e).values())  # examples
    ids = custom_ids(reply.json)
    assert ids and all(i.startswith("cb:pick:") for i in ids)  # examples to press, nothing to rate
    press = bot.component(dr.pick_id("degree-requirements"), message_id=reply.response["id"])
    await respond(bot, press)
    answer = await followup_of(bot, press)
    assert embed(answer)["title"] == service.knowledge.get("degree-requirements").title
    rows = await logged(service)
    assert [(r["outcome"], r["entry_id"]) for r in rows] == [("unknown", None), ("picked", "degree-requirements")]


async def test_autocomplete_suggests_knowledge_best_first(bot: FakeDiscord, service: Service) -> None:
    async def choices(current: str) -> list[JSON]:
        callback = await respond(bot, bot.autocomplete("ask", "question", current))
        assert callback.json["type"] == 8
        found = callback.json["data"]["choices"]
        assert len(found) <= 25 and all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in found)
        return found

    phd = await choices("phd")
    assert phd[0]["value"] == service.knowledge.get("degree-requirements").title
    assert (await choices("how much do ML engineers earn"))[0]["name"] == service.knowledge.get("salary-and-pay").title
    empty = await choices("")
    assert len(empty) == 25 and [c["name"] for c in empty[:3]] == [e.title for e in service.topics()[:3]]
    longest = max(service.topics(), key=lambda e: len(e.title))
    found = await choices(longest.title[:40])
    offered = next(c for c in found if c["name"].startswith(longest.title[:40]))
    assert offered["name"] == offered["value"] == dr.clip(longest.title, 100)
    _, answer = await ask(bot, offered["value"])  # a clipped title still finds its answer
    assert embed(answer)["title"] == longest.title


# --- /topics --------------------------------------------------------------------------------------


async def test_topics_lists_every_entry_in_select_menus_and_a_choice_answers(
    bot: FakeDiscord, service: Service
) -> None:
    callback = await respond(bot, bot.slash_command("topics"))
    assert callback.json["type"] == 4 and flags(callback.json) & EPHEMERAL
    rows = callback.json["data"]["components"]
    menus = [c for row in rows for c in row["components"]]
    assert all(m["type"] == 3 for m in menus) and len(rows) == len(menus) <= 5
    assert all(len(m["options"]) <= 25 for m in menus)
    offered = [o["value"] for m in menus for o in m["options"]]
    assert offered == [e.id for e in service.topics()]
    message_id = callback.response["resource"]["message"]["id"]
    pick = bot.select(menus[-1]["custom_id"], ["salary-and-pay"], message_id=message_id)
    answer_callback = await respond(bot, pick)
    assert answer_callback.json == {"type": 5, "data": {"flags": EPHEMERAL}}
    answer = await followup_of(bot, pick)
    assert embed(answer)["title"] == service.knowledge.get("salary-and-pay").title
    assert [r["entry_id"] for r in await logged(service)] == ["salary-and-pay"]


# --- buttons --------------------------------------------------------------------------------------


async def test_feedback_button_works_after_a_restart(
    fake: FakeDiscord, service: Service, knowledge: Knowledge, db_path: Path
) -> None:
    async with running(service):
        _, answer = await ask(fake, "do I need a PhD?")
    down = next(i for i in custom_ids(answer.json) if i.startswith("cb:fb:0:"))
    ref = down.split(":")[3]
    async with Store(db_path, flush_interval=0.02) as store:
        restarted = Service(knowledge, store)
        async with running(restarted):
            await until(lambda: fake.identify_count == 2)
            callback = await respond(fake, fake.component(down, message_id=answer.response["id"]))
        assert callback.json["type"] == 4 and flags(callback.json) & EPHEMERAL  # acknowledged privately
        assert "Thanks" in callback.json["data"]["content"]
        await store.flush()
        rows = await store.fetch("SELECT question_ref, entry_id, helpful, platform, user_hash FROM feedback")
    assert [tuple(r)[:4] for r in rows] == [(ref, "degree-requirements", 0, "discord")]
    assert rows[0]["user_hash"] and str(USER_ID) not in rows[0]["user_hash"]


async def test_related_question_button_on_a_public_answer_answers_publicly(bot: FakeDiscord) -> None:
    await bot.dispatch("MESSAGE_CREATE", bot.message("do I need a PhD?", mention_bot=True))
    reply = await replied(bot)
    related = next(i for i in custom_ids(reply.json) if i.startswith("cb:pick:"))
    press = bot.component(related, message_id=reply.response["id"])
    callback = await respond(bot, press)
    assert callback.json["type"] == 5 and not flags(callback.json) & EPHEMERAL
    answer = await followup_of(bot, press)
    assert any(i.startswith("cb:fb:") for i in custom_ids(answer.json))


# --- mentions and DMs -----------------------------------------------------------------------------


async def test_mention_and_dm_are_answered_as_replies(bot: FakeDiscord, service: Service) -> None:
    mention = bot.message("how much do ML engineers earn?", mention_bot=True)
    await bot.dispatch("MESSAGE_CREATE", mention)
    reply = await replied(bot)
    assert str(reply.json["message_reference"]["message_id"]) == mention["id"]
    assert reply.json["allowed_mentions"] == {"parse": []}  # replied_user defaults to false: no ping either
    assert embed(reply)["title"] == service.knowledge.get("salary-and-pay").title
    assert any(i.startswith("cb:fb:1:") for i in custom_ids(reply.json))

    dm = bot.message("do I need a PhD?", dm=True)
    await bot.dispatch("MESSAGE_CREATE", dm)
    dm_reply = await replied(bot, DM_CHANNEL_ID)
    assert str(dm_reply.json["message_reference"]["message_id"]) == dm["id"]
    assert "PhD" in embed(dm_reply)["title"]
    rows = await logged(service)
    assert [(r["workspace_id"], r["channel_id"]) for r in rows] == [
        (str(GUILD_ID), str(TEXT_CHANNEL_ID)),
        (None, str(DM_CHANNEL_ID)),
    ]


async def test_other_messages_are_not_read(bot: FakeDiscord, service: Service) -> None:
    everyone = bot.message("@everyone do I need a PhD?")
    everyone["mention_everyone"] = True
    from_a_bot = bot.message("do I need a PhD?", mention_bot=True)
    from_a_bot["author"]["bot"] = True
    for message in (bot.message("do I need a PhD?"), everyone, from_a_bot):
        await bot.dispatch("MESSAGE_CREATE", message)
    await bot.dispatch("MESSAGE_CREATE", bot.message("sentinel: do I need a PhD?", dm=True))
    await replied(bot, DM_CHANNEL_ID)
    assert not bot.find_requests("POST", rf"/channels/{TEXT_CHANNEL_ID}/messages")
    assert len(await logged(service)) == 1


async def test_pings_in_questions_are_never_sent(bot: FakeDiscord) -> None:
    ping = f"@everyone @here <@&{MOD_ROLE_ID}> <@{OWNER_ID}>"
    await bot.dispatch("MESSAGE_CREATE", bot.message(f"{ping} what is the capital of France?", mention_bot=True))
    reply = await replied(bot)
    _, public = await ask(bot, f"{ping} career", public=True)
    for body in (reply.json, public.json):
        assert body["allowed_mentions"]["parse"] == []
        sent = json.dumps(body, ensure_ascii=False)
        assert "@everyone" not in sent and "@here" not in sent and f"<@&{MOD_ROLE_ID}>" not in sent
    assert "capital of France" in fields(embed(reply))["You asked"]


# --- maintainers ----------------------------------------------------------------------------------


async def test_maintainer_commands_are_refused_to_others_and_allowed_to_maintainers(
    bot: FakeDiscord, service: Service
) -> None:
    await ask(bot, "what is the capital of France?")

    for command in ("unanswered", "careerbot-stats"):
        for refused in (bot.slash_command(command), bot.slash_command(command, guild=False)):
            callback = await respond(bot, refused)
            assert callback.json["type"] == 4 and flags(callback.json) & EPHEMERAL
            assert "only for careerbot's maintainers" in callback.json["data"]["content"]

    manager = bot.slash_command("unanswered", permissions=discord.Permissions(manage_guild=True))
    assert (await respond(bot, manager)).json == {"type": 5, "data": {"flags": EPHEMERAL}}
    report = embed(await followup_of(bot, manager))["description"]
    assert report.startswith("```") and "capital of France" in report

    moderator = bot.slash_command("careerbot-stats", roles=[MOD_ROLE_ID])  # DISCORD_MAINTAINER_ROLE, no permission
    assert (await respond(bot, moderator)).json["type"] == 5
    stats = await followup_of(bot, moderator)
    assert flags(stats.json) & EPHEMERAL and "questions" in embed(stats)["description"]


# --- limits and failures --------------------------------------------------------------------------


async def test_questions_are_rate_limited_per_user_politely(bot: FakeDiscord, service: Service) -> None:
    for _ in range(5):
        await ask(bot, "do I need a PhD?")
    callback = await respond(bot, bot.slash_command("ask", {"question": "do I need a PhD?"}))
    assert callback.json["type"] == 4 and flags(callback.json) & EPHEMERAL
    assert "wait" in callback.json["data"]["content"]
    for _ in range(3):  # a flood of mentions gets one "slow down", not one each
        await bot.dispatch("MESSAGE_CREATE", bot.message("do I need a PhD?", mention_bot=True))
    assert "wait" in (await replied(bot)).json["content"]
    await bot.dispatch("MESSAGE_CREATE", bot.message("do I need a PhD?", dm=True, author_id=OWNER_ID))
    await replied(bot, bot.dm_channel_id(OWNER_ID))  # other people are not slowed down
    assert len(bot.find_requests("POST", rf"/channels/{TEXT_CHANNEL_ID}/messages")) == 1
    assert len(await logged(service)) == 6


def test_rate_limit_window_slides() -> None:
    limit = RateLimit(rate=2, per=10)
    assert limit.retry_after(1, now=0) == 0 and limit.retry_after(1, now=1) == 0
    assert limit.retry_after(1, now=2) == pytest.approx(8)
    assert limit.first_warning(1, now=2) and not limit.first_warning(1, now=3)
    assert limit.retry_after(2, now=2) == 0  # per user
    assert limit.retry_after(1, now=10.5) == 0


async def test_a_button_press_in_flight_is_waited_for_at_shutdown(
    bot: FakeDiscord, service: Service, held_feedback: asyncio.Event
) -> None:
    _, answer = await ask(bot, "do I need a PhD?")
    helpful = custom_ids(answer.json)[0]
    press = asyncio.create_task(respond(bot, bot.component(helpful, message_id=answer.response["id"])))
    await until(lambda: service.in_flight == 1)
    assert not await service.drain(0.05)
    held_feedback.set()
    assert await service.drain(2.0)
    assert "Thanks" in (await press).json["data"]["content"]


async def test_errors_become_an_apology_and_a_logged_traceback(
    bot: FakeDiscord, service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the engine fell over")

    _, answer = await ask(bot, "do I need a PhD?")
    monkeypatch.setattr(service, "ask", broken)
    monkeypatch.setattr(service, "feedback", broken)
    with caplog.at_level(logging.ERROR):
        _, apology = await ask(bot, "do I need a PhD?")
        assert apology.json["content"] == APOLOGY and flags(apology.json) & EPHEMERAL

        await bot.dispatch("MESSAGE_CREATE", bot.message("do I need a PhD?", mention_bot=True))
        assert (await replied(bot)).json["content"] == APOLOGY

        helpful = custom_ids(answer.json)[0]
        callback = await respond(bot, bot.component(helpful, message_id=answer.response["id"]))
        assert callback.json["data"]["content"] == APOLOGY and flags(callback.json) & EPHEMERAL
    failures = [r for r in caplog.records if r.exc_info and "the engine fell over" in str(r.exc_info[1])]
    assert len(failures) == 3


@pytest.mark.parametrize("code", [4000, None], ids=["close-4000", "tcp-abort"])
async def test_client_reconnects_after_the_gateway_drops(bot: FakeDiscord, code: int | None) -> None:
    await bot.dispatch("MESSAGE_CREATE", bot.message("do I need a PhD?", dm=True))
    await replied(bot, DM_CHANNEL_ID)
    await bot.drop_connection(code)
    await bot.wait_identified()
    assert bot.resume_count == 1 and bot.gateway_connections == 2
    await bot.dispatch("MESSAGE_CREATE", bot.message("how much do ML engineers earn?", mention_bot=True))
    assert "earn" in embed(await replied(bot))["title"]
    _, answer = await ask(bot, "do I need a PhD?")
    assert "PhD" in embed(answer)["title"]


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("", "greeting"),
        ("how much do ML engineers earn? " * 3300, "answer"),  # ~100 KB
        ("🎉🙂🚀", "greeting"),
        ("do i need\x00\x07 a phd\x1b\u202e?", "answer"),
        ("**bold** __under__ `code` <script>alert(1)</script> ||spoiler|| > quote", None),
        ("'; DROP TABLE questions; -- SELECT * FROM feedback", None),
    ],
    ids=["empty-mention", "100kb", "emoji-only", "control-chars", "markdown-html", "sql"],
)
async def test_bad_input_gets_a_polite_reply_and_is_logged(
    bot: FakeDiscord, service: Service, text: str, outcome: str | None
) -> None:
    await bot.dispatch("MESSAGE_CREATE", bot.message(text, mention_bot=True))
    reply = await replied(bot)
    e = embed(reply)
    assert e.get("description") and len(e["description"]) <= 4096
    assert reply.json["allowed_mentions"]["parse"] == []
    if len(text) > 1000:
        assert "long" in reply.json["content"]  # the truncation note
    if "You asked" in fields(e):
        asked = fields(e)["You asked"]
        assert "**bold**" not in asked and "\x00" not in asked
    [row] = await logged(service)
    assert outcome is None or row["outcome"] == outcome
    assert len(row["text"]) <= 4000
    assert await service.store.fetch("SELECT COUNT(*) FROM questions")  # the table is still there


# --- pure rendering -------------------------------------------------------------------------------


def _entry(i: int, title: str = "Related question ", answer: str = "a") -> Entry:
    return Entry(id=f"e-{i}", title=title * 10, questions=("q",), answer=answer, sources=())


def test_render_respects_discord_limits() -> None:
    huge = Entry(
        id="huge",
        title="A very long title " * 30,
        questions=("q",),
        answer="@everyone words " * 600,
        sources=tuple(Source(f"s{i}", "A long article title " * 10, "Someone") for i in range(20)),
    )
    many = tuple(_entry(i) for i in range(30))
    for reply in (
        Reply(ReplyKind.ANSWER, "q", huge.answer, "ref123", entry=huge, related=many),
        Reply(ReplyKind.SUGGEST, "q " * 3000, "Did you mean?", "ref", suggestions=many),
        Reply(ReplyKind.UNKNOWN, "@everyone " * 500, "x", "ref", examples=many),
    ):
        e, _, view = render(reply)
        assert e is not None and len(e) <= 6000 and len(e.title or "") <= 256
        assert len(e.description or "") <= 4096 and all(len(f.value or "") <= 1024 for f in e.fields)
        assert "@everyone" not in json.dumps(e.to_dict(), ensure_ascii=False)
        if view is not None:
            assert len(view.children) <= 25
            rows: dict[int, int] = {}
            for item in view.children:
                assert item.row is not None and 0 <= item.row < 5
                rows[item.row] = rows.get(item.row, 0) + 1
                assert len(item.item.label) <= 80 and len(item.custom_id) <= 100
            assert max(rows.values()) <= 5
            view.to_components()  # discord.py accepts the layout


def test_render_escapes_user_text_and_shows_intro_examples() -> None:
    suggest = Reply(ReplyKind.SUGGEST, "**hi** @here <@123456789012345678>", "Did you mean?", "r")
    asked = fields(render(suggest).embed.to_dict())["You asked"]
    assert "\\*\\*hi\\*\\*" in asked and "@\u200bhere" in asked and "<@\u200b123456789012345678>" in asked
    examples = (_entry(1, title="Do I need a PhD? "), _entry(2, title="What's the pay? "))
    e, content, view = render(Reply(ReplyKind.GREETING, "hi", "Hello!", "r", examples=examples))
    assert e.description == "Hello!" and "• Do I need a PhD?" in fields(e.to_dict())["Try asking"]
    assert content is None and view is not None
    assert [item.custom_id for item in view.children] == [dr.pick_id("e-1"), dr.pick_id("e-2")]  # press to ask


def test_autocomplete_choice_is_clipped_to_100_characters() -> None:
    c = dr.choice(_entry(1, title="Is this a long question? "))
    assert len(c.name) == len(c.value) == 100 and c.name == c.value and c.name.endswith("…")


def test_custom_ids_round_trip_through_the_templates() -> None:
    fb = dr.FEEDBACK_TEMPLATE.fullmatch(dr.feedback_id(False, "0a1b2c3d4e5f", "degree-requirements"))
    assert fb and (fb["helpful"], fb["ref"], fb["entry_id"]) == ("0", "0a1b2c3d4e5f", "degree-requirements")
    assert dr.PICK_TEMPLATE.fullmatch(dr.pick_id("salary-and-pay"))["entry_id"] == "salary-and-pay"
    assert dr.TOPICS_TEMPLATE.fullmatch(dr.topics_id(1))["page"] == "1"
