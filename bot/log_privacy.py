"""A logging filter that keeps what people write (and the token) out of the logs.

Libraries log request parameters, URLs and whole updates: python-telegram-bot logs a batch it
cannot parse at CRITICAL with every message in it, httpx logs URLs holding the token, and
aiosqlite statements' parameters. Raising their levels is not enough (CRITICAL still passes),
so every record from them is cut down to its fixed template, whatever its level.

Our own errors are logged with `describe_error`: where it failed, frame by frame, and
never what the exception says.
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from pathlib import Path

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


# --- errors a maintainer can act on, with nothing a person wrote -------------------------

_ROOT = Path(__file__).resolve().parent.parent
MAX_FRAMES = 12  # innermost kept: where it failed matters more than how it was reached
MAX_CAUSES = 3  # `raise ... from` chains followed this deep


def describe_error(exc: BaseException | None) -> str:
    """The exception's type and where it was raised, as `file:line in function` frames
    (outermost first), followed by its causes.

    Never the exception's message, its arguments, source lines or any frame's locals:
    any of them may quote what a person wrote ("invalid literal for int(): 'I lied'").
    """
    parts: list[str] = []
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen and len(parts) <= MAX_CAUSES:
        seen.add(id(exc))
        parts.append(f"{_type_name(exc)} at {_frames(exc)}")
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return " | from ".join(parts) if parts else "no exception"


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    if kind.__module__ == "builtins":
        return kind.__qualname__
    return f"{kind.__module__}.{kind.__qualname__}"


def _frames(exc: BaseException) -> str:
    summary = traceback.extract_tb(exc.__traceback__)
    if not summary:
        return "(no traceback)"
    shown = [f"{_where(f.filename)}:{f.lineno} in {f.name}" for f in summary[-MAX_FRAMES:]]
    if len(summary) > MAX_FRAMES:
        shown.insert(0, f"({len(summary) - MAX_FRAMES} outer frame(s))")
    return " > ".join(shown)


def _where(filename: str) -> str:
    """A short path: relative to the repository, from site-packages on, or the name."""
    path = Path(filename)
    with contextlib.suppress(ValueError, OSError):
        return path.resolve().relative_to(_ROOT).as_posix()
    parts = path.parts
    if "site-packages" in parts:
        return "/".join(parts[parts.index("site-packages") + 1 :])
    return path.name
