"""A logging filter that keeps what people write (and the token) out of the logs.

Libraries log request parameters, URLs and whole updates: python-telegram-bot logs a batch it
cannot parse at CRITICAL with every message in it, httpx logs URLs holding the token, and
aiosqlite statements' parameters. Raising their levels is not enough (CRITICAL still passes),
so every record from them is cut down to its fixed template, whatever its level.
"""

from __future__ import annotations

import logging
import re

PRIVATE_LOGGERS = ("telegram", "httpx", "httpcore", "aiosqlite", "tornado")
WITHHELD = "(details withheld)"
# Signs of content in an already formatted message (no template to fall back on).
_CONTENT = re.compile(
    r"update_id|Update\(|Message\(|'text'|\"text\"|/bot|\d{5,}:[\w-]{20,}|\{.*:.*\}", re.S
)
_MAX_TEMPLATE = 300


def _is_private(name: str) -> bool:
    return any(name == n or name.startswith(n + ".") for n in PRIVATE_LOGGERS)


class PrivacyFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_private(record.name):
            return True
        if record.levelno < logging.INFO:
            return False  # their DEBUG is request by request, with parameters: never useful
        template = record.msg if isinstance(record.msg, str) else WITHHELD
        if not record.args and _CONTENT.search(template):
            template = WITHHELD  # formatted before logging: it may hold anything
        if record.exc_info and record.exc_info[0] is not None:
            # The traceback's messages can quote the data; its type says what went wrong.
            template = f"{template} [{record.exc_info[0].__name__}]"
        record.msg = template[:_MAX_TEMPLATE]
        record.args = None
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


PRIVACY_FILTER = PrivacyFilter()


def install(handler: logging.Handler) -> None:
    """Attach the filter to `handler` once."""
    if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
        handler.addFilter(PRIVACY_FILTER)


def install_on_root() -> None:
    for handler in logging.getLogger().handlers:
        install(handler)
