"""The `careerbot` command as a user runs it: a fresh process, real files, real exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import BUNDLED_KNOWLEDGE, VARIABLES

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(BUNDLED_KNOWLEDGE, knowledge)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CAREERBOT_", "DISCORD_", "SLACK_"))}
    return {**clean, "CAREERBOT_DB": str(tmp_path / "log.db"), "CAREERBOT_KNOWLEDGE": str(knowledge)}


def test_core_imports_no_platform_library() -> None:
    code = (
        "import sys, bot.cli, bot.service, bot.review, bot.promote, adapters.console; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'discord', 'slack_bolt', 'slack_sdk'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ask_json_reads_stdin_and_writes_one_object_per_line(env: dict[str, str]) -> None:
    result = run("ask", "--json", env=env, stdin="do I need a PhD?\nhi\nwhat's a good name for my cat?\n")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [set(obj) for obj in lines] == [{"question", "kind", "entry_id", "score", "suggestions", "text"}] * 3
    assert (lines[0]["kind"], lines[0]["entry_id"]) == ("answer", "degree-requirements")
    assert lines[1]["kind"] == "greeting" and lines[1]["entry_id"] is None
    assert lines[2]["kind"] == "unknown"


def test_ask_prints_answer_with_its_source(env: dict[str, str]) -> None:
    result = run("ask", "how much do ML engineers earn?", env=env)
    assert result.returncode == 0
    assert "Source:" in result.stdout and "Egor Howell" in result.stdout


def test_no_log_leaves_no_rows(env: dict[str, str]) -> None:
    run("ask", "--no-log", "do I need a PhD?", env=env)
    assert not Path(env["CAREERBOT_DB"]).exists()


def test_check_passes_and_fails_with_the_problem(env: dict[str, str]) -> None:
    assert run("check", env=env).returncode == 0
    role = Path(env["CAREERBOT_KNOWLEDGE"]) / "role.yaml"
    role.write_text(role.read_text().replace("related: [", "related: [ghost-entry, ", 1))
    result = run("check", env=env)
    assert result.returncode == 1
    assert (
        "role.yaml: entry 'what-is-an-ml-engineer': field `related` names unknown entry 'ghost-entry'" in result.stderr
    )
    assert run("ask", "hi", env=env).returncode == 1  # the bot does not start on broken knowledge


def test_eval_reports_accuracy_false_answers_and_suggestion_recall(env: dict[str, str], tmp_path: Path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text('- {q: "do I need a PhD?", expect: [degree-requirements]}\n- {q: "best cat names?", expect: []}\n')
    result = run("eval", str(cases), "--json", env=env)
    report = json.loads(result.stdout)
    assert report["top1_accuracy"] == 1.0 and report["false_answer_rate"] == 0.0
    assert {"suggestion_recall", "misses"} <= set(report)


def test_a_maintainer_turns_a_gap_into_an_answer_with_two_commands(env: dict[str, str]) -> None:
    question = "is there a ML engineer certification from the zorblax institute"
    assert json.loads(run("ask", "--json", question, env=env).stdout)["kind"] != "answer"
    clusters = json.loads(run("review", "--json", env=env).stdout)
    [cluster] = [c for c in clusters if question in c["questions"]]
    assert {"id", "count", "first_seen", "last_seen", "questions", "best_guesses"} <= set(cluster)

    result = run("review", "promote", cluster["id"], "--to", "degree-requirements", env=env)
    assert result.returncode == 0, result.stderr
    after = json.loads(run("ask", "--json", "--no-log", question, env=env).stdout)
    assert (after["kind"], after["entry_id"]) == ("answer", "degree-requirements")
    role = (Path(env["CAREERBOT_KNOWLEDGE"]) / "role.yaml").read_text()
    assert role.startswith("# The ML engineer role itself")  # the file's own comments are kept
    assert json.loads(run("review", "--json", env=env).stdout) == [c for c in clusters if c["id"] != cluster["id"]]


def test_dismiss_and_new_and_stats(env: dict[str, str]) -> None:
    run("ask", "--json", env=env, stdin="buy crypto now!!!\nbest pizza topping?\n")
    clusters = json.loads(run("review", "--json", env=env).stdout)
    assert len(clusters) == 2
    skeleton = run("review", "new", clusters[0]["id"], env=env).stdout
    assert "id: TODO" in skeleton and clusters[0]["questions"][0] in skeleton
    assert run("review", "dismiss", clusters[1]["id"], env=env).returncode == 0
    assert [c["id"] for c in json.loads(run("review", "--json", env=env).stdout)] == [clusters[0]["id"]]
    stats = json.loads(run("stats", "--json", env=env).stdout)
    assert stats["total"] == 2 and stats["unknown_rate"] + stats["suggest_rate"] == 1.0
    csv_out = run("review", "--csv", env=env).stdout
    assert csv_out.splitlines()[0].startswith("id,count,first_seen")


def test_review_of_an_unknown_cluster_is_a_clear_error(env: dict[str, str]) -> None:
    result = run("review", "promote", "nope", "--to", "typical-day", env=env)
    assert result.returncode == 1 and "no open cluster 'nope'" in result.stderr


def test_readme_documents_every_variable() -> None:
    readme = (ROOT / "README.md").read_text()
    missing = [name for name in VARIABLES if not re.search(rf"`{name}`", readme)]
    assert not missing
