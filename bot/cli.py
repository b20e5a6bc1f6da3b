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
    print(f"knowledge OK: {len(knowledge.entries)} entries, {questions} alternate questions, "
          f"{len(knowledge.sources)} sources, version {knowledge.version}")
    return 0


async def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    from bot.engine import Engine
    from bot.evaluate import evaluate, format_report, load_cases

    report = evaluate(Engine(load_knowledge(settings.knowledge_dir)), load_cases(args.file))
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
    print(f"rules:     answer when score ≥ {tune.answer_at} and lead over the runner-up ≥ {tune.margin}; "
          f"suggest entries scoring ≥ {tune.suggest_at}")
    for i, cand in enumerate(match.candidates[: args.top], 1):
        print(f"  {i}. {cand.score:6.2f}  {cand.entry.id}  ({cand.entry.file})")
    return 0


COMMANDS = {"chat": cmd_chat, "ask": cmd_ask, "check": cmd_check, "eval": cmd_eval, "why": cmd_why}


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
    setup_logging(settings.log_level or ("WARNING" if command in {"chat", "ask", "eval", "why", "check"} else "INFO"),
                  settings.log_format)
    try:
        return asyncio.run(COMMANDS[command](settings, args))
    except KnowledgeError as exc:
        print(f"careerbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
