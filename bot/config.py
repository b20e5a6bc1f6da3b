"""Configuration: environment variables (and an optional .env file), each with a documented default.

``VARIABLES`` is the one list of every setting; the README's table mirrors it
(a test keeps them in step).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

BUNDLED_KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"

VARIABLES: dict[str, tuple[str, str]] = {
    "CAREERBOT_DB": ("careerbot.db", "SQLite file of the question log (created if missing)"),
    "CAREERBOT_KNOWLEDGE": ("the bundled knowledge/ folder", "folder of knowledge YAML files"),
    "CAREERBOT_RETENTION_DAYS": (
        "90",
        "`careerbot log purge` (and the running bot, daily) delete questions older than this",
    ),
    "CAREERBOT_SALT": ("random, kept in the database", "salt for hashing user ids in the log"),
    "CAREERBOT_RELOAD_SECONDS": ("2", "how often the running bot checks knowledge/ for edits (0 = never)"),
    "LOG_LEVEL": ("INFO (WARNING in `careerbot chat`)", "DEBUG, INFO, WARNING or ERROR"),
    "LOG_FORMAT": ("text", "`text` or `json` (one JSON object per line)"),
    "DISCORD_TOKEN": ("unset", "Discord bot token; enables the Discord adapter"),
    "DISCORD_GUILD_ID": ("unset", "sync slash commands to this one server only (instant) instead of globally"),
    "DISCORD_MAINTAINER_ROLE": ("unset", "role name allowed to use maintainer commands (besides Manage Server)"),
    "SLACK_BOT_TOKEN": ("unset", "Slack bot token (xoxb-…); enables the Slack adapter"),
    "SLACK_APP_TOKEN": ("unset", "Slack app-level token (xapp-…); set it for Socket Mode"),
    "SLACK_SIGNING_SECRET": ("unset", "Slack signing secret; required for HTTP mode"),
    "SLACK_MAINTAINERS": (
        "unset",
        "comma-separated Slack user ids allowed maintainer commands (besides workspace admins)",
    ),
    "PORT": ("3000", "HTTP port for Slack HTTP mode and /healthz"),
}


@dataclass(frozen=True)
class Settings:
    db_path: Path = Path("careerbot.db")
    knowledge_dir: Path = BUNDLED_KNOWLEDGE
    retention_days: int = 90
    salt: str | None = None
    reload_seconds: float = 2.0
    log_level: str | None = None
    log_format: str = "text"
    discord_token: str | None = None
    discord_guild_id: int | None = None
    discord_maintainer_role: str | None = None
    slack_bot_token: str | None = None
    slack_app_token: str | None = None
    slack_signing_secret: str | None = None
    slack_maintainers: frozenset[str] = frozenset()
    port: int = 3000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def number(name: str, default: float) -> float:
            raw = get(name)
            try:
                return float(raw) if raw is not None else default
            except ValueError:
                raise ValueError(f"{name} must be a number, not {raw!r}") from None

        guild = get("DISCORD_GUILD_ID")
        if guild is not None and not guild.isdigit():
            raise ValueError(f"DISCORD_GUILD_ID must be a numeric server id, not {guild!r}")
        log_format = (get("LOG_FORMAT") or "text").lower()
        if log_format not in {"text", "json"}:
            raise ValueError(f"LOG_FORMAT must be text or json, not {log_format!r}")
        return cls(
            db_path=Path(get("CAREERBOT_DB") or "careerbot.db"),
            knowledge_dir=Path(get("CAREERBOT_KNOWLEDGE") or BUNDLED_KNOWLEDGE),
            retention_days=int(number("CAREERBOT_RETENTION_DAYS", 90)),
            salt=get("CAREERBOT_SALT"),
            reload_seconds=number("CAREERBOT_RELOAD_SECONDS", 2.0),
            log_level=(get("LOG_LEVEL") or "").upper() or None,
            log_format=log_format,
            discord_token=get("DISCORD_TOKEN"),
            discord_guild_id=int(guild) if guild else None,
            discord_maintainer_role=get("DISCORD_MAINTAINER_ROLE"),
            slack_bot_token=get("SLACK_BOT_TOKEN"),
            slack_app_token=get("SLACK_APP_TOKEN"),
            slack_signing_secret=get("SLACK_SIGNING_SECRET"),
            slack_maintainers=frozenset(u.strip() for u in (get("SLACK_MAINTAINERS") or "").split(",") if u.strip()),
            port=int(number("PORT", 3000)),
        )
