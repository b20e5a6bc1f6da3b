"""Logging set-up, called once by the command line. Secrets never reach a log line."""

from __future__ import annotations

import json
import logging
import re
import sys

_SECRET = re.compile(r"\b(?:xox[abposr]-[\w-]+|xapp-[\w-]+|[MN][\w-]{23,}\.[\w-]{6}\.[\w-]{27,})")


class _Redact(logging.Filter):
    """Blank anything shaped like a Slack or Discord token, wherever it appears."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _SECRET.search(message):
            record.msg, record.args = _SECRET.sub("[redacted]", message), None
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_Redact())
    handler.setFormatter(
        _JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if level != "DEBUG":
        for noisy in ("aiosqlite", "asyncio", "discord", "slack_bolt", "slack_sdk"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
