"""The `careerbot` command (also `python -m bot`): local chat, one-off questions, and maintainers' tools."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from bot.config import Settings
from bot.knowledge import KnowledgeError, load_knowledge
from bot.logs import setup_logging
from bot.models import Question, Reply
from bot.service import Service
from bot.store import Store, StoreError

log = logging.getLogger("careerbot")


def reply_json(reply: Reply) -> dict[str, object]:
    """The stable one-line JSON form of a reply (`careerbot ask --json`); evaluation scripts depend on it."""
    return {
        "question": reply.question,
        "kind": reply.kind.value,
        "entry_id": reply.entry.id if reply.entry else None,
        "score": reply.score,
        "suggestions": [e.id for e in reply.suggestions],
        "text": reply.text,
    }


@contextlib.asynccontextmanager
async def open_service(settings: Settings, *, log_questions: bool = True) -> AsyncIterator[Service]:
    """Knowledge, engine and (unless told not to) the question log, closed cleanly at the end."""
    knowledge = load_knowledge(settings.knowledge_dir)
    store: Store | None = None
    if log_questions:
        try:
            store = await Store(settings.db_path, salt=settings.salt).open()
        except StoreError as exc:
            log.warning("%s; questions will not be logged", exc)
    try:
        yield Service(knowledge, store)
    finally:
        if store is not None:
            await store.close()


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console import chat

    async with open_service(settings, log_questions=not args.no_log) as service:
        await chat(service)
    return 0


async def cmd_ask(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.console import render

    if not args.question and not args.json:
        print("careerbot ask: give a question, or use --json to read questions from standard input", file=sys.stderr)
        return 2
    questions = [" ".join(args.question)] if args.question else (line.rstrip("\n") for line in sys.stdin)
    async with open_service(settings, log_questions=not args.no_log) as service:
        for text in questions:
            reply = await service.ask(Question(text, platform="cli"))
            print(json.dumps(reply_json(reply), ensure_ascii=False) if args.json else render(reply), flush=True)
    return 0


async def cmd_check(settings: Settings, args: argparse.Namespace) -> int:
    knowledge = load_knowledge(args.folder or settings.knowledge_dir)
    questions = sum(len(e.questions) for e in knowledge.entries)
    print(
        f"knowledge OK: {len(knowledge.entries)} entries, {questions} alternate questions, "
        f"{len(knowledge.offtopic.examples)} must-not-answer examples, {len(knowledge.sources)} sources, "
        f"version {knowledge.version}"
    )
    return 0


async def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.evaluate import evaluate, format_report, knowledge_for, load_cases

    knowledge = knowledge_for(settings.knowledge_dir, args.file)
    report = await evaluate(Service(knowledge), load_cases(args.file))
    if knowledge.left_out and not args.json:
        print(f"(the knowledge is taught from {', '.join(knowledge.left_out)}: left out here, to measure it as unseen)")
    print(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) if args.json else format_report(report))
    return 0


async def cmd_why(settings: Settings, args: argparse.Namespace) -> int:
    from bot.engine import Engine

    engine = Engine(load_knowledge(settings.knowledge_dir))
    text = " ".join(args.question)
    match = engine.match(text)
    tune = engine.tuning
    print(f"question:  {text}")
    print("tokens:    " + (" ".join(f"{t}({engine.weight(t):.2f})" for t in match.normalised.split()) or "(none)"))
    print(f"decision:  {match.kind.value} — {match.reason}")
    print(
        f"rules:     answer when confidence ≥ {tune.answer_at}, lead ≥ {tune.margin} "
        f"(≥ {tune.one_word_margin} for a one-word question) and "
        f"information ≥ {tune.min_information} (or the entry lists the question word for word); "
        "never when a question labelled must-not-answer matches as well, nor when it names another occupation "
        "and nothing in ML; "
        f"suggest when confidence ≥ {tune.suggest_at}; else don't know"
    )
    print(
        "candidates (score = blend of closest alternate question, whole-entry coverage and rapidfuzz similarity"
        " of the tokens and of the whole wording):"
    )
    for i, cand in enumerate(match.candidates[: args.top], 1):
        print(
            f"  {i}. {cand.score:6.2f}  {cand.entry.id:<34} closest question {cand.phrasing:4.0%}, "
            f"entry coverage {cand.coverage:4.0%}  ({cand.entry.file})"
        )
    return 0


@contextlib.asynccontextmanager
async def open_store(settings: Settings) -> AsyncIterator[Store]:
    """The question log for maintainers' commands: safe to use while the bot runs (WAL, busy timeout)."""
    store = await Store(settings.db_path, salt=settings.salt).open(writer=False)
    try:
        yield store
    finally:
        await store.close()


async def cmd_review(settings: Settings, args: argparse.Namespace) -> int:
    from bot import review
    from bot.promote import add_questions, skeleton

    async with open_store(settings) as store:
        if args.action == "list":
            since = review.parse_age(args.since) if args.since else None
            found = await review.clusters(store, since=since, platform=args.platform, status=args.status)
            if args.json:
                print(json.dumps([c.as_dict() for c in found], indent=2, ensure_ascii=False))
            elif args.csv:
                import csv

                writer = csv.writer(sys.stdout)
                writer.writerow(
                    ["id", "count", "first_seen", "last_seen", "platforms", "representative", "best_guesses"]
                )
                for c in found:
                    guesses = " ".join(f"{g['entry_id']}:{g['score']}" for g in c.best_guesses)
                    writer.writerow(
                        [c.id, c.count, c.first_seen, c.last_seen, " ".join(c.platforms), c.representative, guesses]
                    )
            else:
                print(review.format_clusters(found, args.limit))
                if found:
                    print("\nnext: careerbot review promote ID --to ENTRY_ID | review new ID | review dismiss ID")
            return 0
        cluster = await review.find_cluster(store, args.cluster)
        if args.action == "promote":
            knowledge = load_knowledge(settings.knowledge_dir)
            added = add_questions(knowledge, args.to, cluster.questions)
            await store.set_status(cluster.refs, "resolved")
            print(
                f"added {len(added)} question(s) to '{args.to}' in {knowledge.get(args.to).file}; "  # type: ignore[union-attr]
                f"cluster {cluster.id} resolved"
            )
            for q in added:
                print(f"  + {q}")
            print("A running bot picks the change up by itself; commit the knowledge file to keep it.")
        elif args.action == "new":
            print(skeleton(cluster), end="")
        elif args.action == "dismiss":
            await store.set_status(cluster.refs, "dismissed")
            print(f"cluster {cluster.id} dismissed ({cluster.count} question(s)); it will not come back")
    return 0


async def cmd_stats(settings: Settings, args: argparse.Namespace) -> int:
    from bot import review

    async with open_store(settings) as store:
        since = review.parse_age(args.since) if args.since else None
        result = await review.stats(store, since=since, platform=args.platform, period=args.period)
    print(json.dumps(result.as_dict(), indent=2) if args.json else review.format_stats(result))
    return 0


async def cmd_log(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from bot.review import parse_age

    age = parse_age(args.older_than) if args.older_than else timedelta(days=settings.retention_days)
    async with open_store(settings) as store:
        removed = await store.purge(age)
    print(f"purged {removed} question(s) older than {age.days} days from {settings.db_path}")
    return 0


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.run import StartupError, run

    if getattr(args, "invite", False):
        from adapters.discord_adapter import invite_url_for_token

        if not settings.discord_token:
            print("careerbot: set DISCORD_TOKEN first (the invite URL needs the application id)", file=sys.stderr)
            return 2
        try:
            print(await invite_url_for_token(settings.discord_token))
        except Exception as exc:  # a rejected token or no network: say so, not a traceback
            print(f"careerbot: could not look up the Discord application: {exc}", file=sys.stderr)
            return 1
        return 0
    wanted = None if args.command == "run" else {args.command}
    try:
        return await run(settings, wanted, sync=getattr(args, "sync", False))
    except StartupError as exc:
        print(f"careerbot: cannot start: {exc}", file=sys.stderr)
        return 2


async def cmd_reload(settings: Settings, args: argparse.Namespace) -> int:
    import os
    import signal

    from adapters.run import pid_file

    knowledge = load_knowledge(settings.knowledge_dir)
    print(f"knowledge OK: version {knowledge.version}, {len(knowledge.entries)} entries")
    path = pid_file(settings)
    try:
        os.kill(int(path.read_text()), signal.SIGHUP)
    except (OSError, ValueError):
        print(f"no running careerbot found ({path}); a running bot also picks up edits by itself")
        return 0
    print("asked the running careerbot to reload")
    return 0


COMMANDS = {
    "chat": cmd_chat,
    "ask": cmd_ask,
    "check": cmd_check,
    "eval": cmd_eval,
    "why": cmd_why,
    "review": cmd_review,
    "stats": cmd_stats,
    "log": cmd_log,
    "run": cmd_run,
    "discord": cmd_run,
    "slack": cmd_run,
    "reload": cmd_reload,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="careerbot", description="Answers questions about machine-learning careers.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("chat", help="chat in this terminal (no tokens, no network); the default")
    p.add_argument("--no-log", action="store_true", help="do not record questions in the log")

    p = sub.add_parser("ask", help="answer one question and exit")
    p.add_argument("question", nargs="*", help="the question (omit with --json to read one per line from stdin)")
    p.add_argument("--json", action="store_true", help="print one JSON object per question")
    p.add_argument("--no-log", action="store_true", help="do not record questions in the log")

    p = sub.add_parser("check", help="validate the knowledge; non-zero exit with the problems if it is broken")
    p.add_argument("folder", nargs="?", type=Path, help="knowledge folder (default: CAREERBOT_KNOWLEDGE)")

    p = sub.add_parser("eval", help="measure answers against a labelled question file")
    p.add_argument("file", type=Path)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("why", help="show how a question was scored and decided")
    p.add_argument("question", nargs="+")
    p.add_argument("--top", type=int, default=5)

    p = sub.add_parser("review", help="unanswered and low-rated questions, clustered; turn them into knowledge")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    p.set_defaults(action="list", since=None, platform=None, status="open", json=False, csv=False, limit=None)
    for target in (p, actions.add_parser("list", help="list clusters (the default)")):
        target.add_argument("--since", help="only questions newer than this age, e.g. 7d, 2w, 12h")
        target.add_argument("--platform", help="only this platform (console, cli, discord, slack)")
        target.add_argument("--status", default="open", choices=["open", "resolved", "dismissed", "all"])
        target.add_argument("--limit", type=int, help="show at most this many clusters")
        fmt = target.add_mutually_exclusive_group()
        fmt.add_argument("--json", action="store_true")
        fmt.add_argument("--csv", action="store_true")
    a = actions.add_parser("promote", help="add a cluster's questions to an entry and mark it resolved")
    a.add_argument("cluster")
    a.add_argument("--to", required=True, metavar="ENTRY_ID")
    a = actions.add_parser("new", help="print a YAML skeleton for a new entry from a cluster")
    a.add_argument("cluster")
    a = actions.add_parser("dismiss", help="mark a cluster as noise so it does not come back")
    a.add_argument("cluster")

    p = sub.add_parser("stats", help="answer, suggestion and unknown rates over time; top and low-rated entries")
    p.add_argument("--since", help="only questions newer than this age, e.g. 30d")
    p.add_argument("--platform")
    p.add_argument("--period", choices=["day", "week"], default="day")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("run", help="run every platform whose credentials are set, in one process")
    p.add_argument(
        "--sync", action="store_true", help="sync Discord slash commands at start (rate limited: not every time)"
    )
    p = sub.add_parser("discord", help="run the Discord bot (DISCORD_TOKEN)")
    p.add_argument("--sync", action="store_true", help="sync slash commands at start (to DISCORD_GUILD_ID if set)")
    p.add_argument("--invite", action="store_true", help="print the URL to invite the bot to a server, and exit")
    sub.add_parser("slack", help="run the Slack app (Socket Mode with SLACK_APP_TOKEN, else HTTP on $PORT)")
    sub.add_parser("reload", help="validate the knowledge and tell the running bot to reload it")

    p = sub.add_parser("log", help="maintain the question log")
    log_actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    a = log_actions.add_parser("purge", help="delete questions older than the retention period")
    a.add_argument("--older-than", help="age such as 90d (default: CAREERBOT_RETENTION_DAYS)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
    args = build_parser().parse_args(argv)
    command = args.command or "chat"
    if args.command is None:
        args = build_parser().parse_args(["chat"])
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"careerbot: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level or ("WARNING" if command in {"chat", "ask", "eval", "why", "check"} else "INFO"),
        settings.log_format,
    )
    try:
        return asyncio.run(COMMANDS[command](settings, args))
    except (KnowledgeError, StoreError, LookupError, ValueError) as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `careerbot review | head`
        sys.stderr.close()
        return 0
