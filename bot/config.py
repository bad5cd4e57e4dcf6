"""Settings from the environment (and `.env`). The only module that reads either.

A leaf: at import time it needs nothing else of `bot`, so any module may read the
configuration without an import cycle. The few checks and conversions that need the core
or the store import them when called.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from dotenv import dotenv_values

if TYPE_CHECKING:  # types only: importing them at run time would make this no leaf
    from bot.core.session import Settings
    from bot.store.crypto import TextCipher

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API = "https://api.telegram.org/bot"
DEFAULT_CACHE_DIR = ROOT / ".cache"  # the crisis screen's trained model, rebuilt if missing


POSTGRES_SCHEMES = ("postgresql://", "postgres://")  # DATABASE_URL: PostgreSQL's store


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    token: str = ""
    database_path: Path = ROOT / "mend.sqlite3"
    database_url: str = ""  # postgresql://...: PostgreSQL instead of the SQLite file
    # PostgreSQL connections one process keeps at most (each replica its own pool): the
    # server's max_connections must cover this times the number of replicas.
    database_pool_size: int = 10
    dialogues_dir: Path = ROOT / "dialogues"
    cache_dir: Path = DEFAULT_CACHE_DIR
    protect_content: bool = True  # messages quoting a person's words can't be forwarded
    default_timezone: str = "UTC"
    log_level: str = "INFO"
    api_base_url: str = DEFAULT_API
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    encryption_key: str = ""
    # `rotate-key` only: re-encrypt from OLD_KEY to NEW_KEY (either empty: plain text).
    old_key: str = field(default="", repr=False)
    new_key: str = field(default="", repr=False)
    dispatch_interval: float = 1.0  # seconds between looks for due check-ins when idle
    send_rate: float = 30.0  # messages a second overall, Telegram's limit
    # Intake: updates handled at once, and waiting per person before more are dropped.
    max_concurrent_updates: int = 128
    max_waiting_per_person: int = 8
    turn_timeout: float = 60.0  # seconds before a stuck turn is given up and rolled back
    replan_interval: float = 60.0  # seconds between sweeps re-planning unplanned check-ins
    # The outbox: a reply older than the grace is owed (its turn died); swept this often.
    outbox_grace: float = 90.0
    outbox_sweep_interval: float = 30.0
    # A claimed check-in not completed this long after (its process died) is claimed again.
    checkin_reclaim: float = 300.0

    def defaults(self) -> Settings:
        """The settings a person starts with."""
        from bot.core.session import Settings

        return Settings(timezone=self.default_timezone)

    def cipher(self) -> TextCipher | None:
        """The cipher for text at rest, or None to store it plain. Raises BadKey on a typo."""
        return _cipher(self.encryption_key)

    def rotation_ciphers(self) -> tuple[TextCipher | None, TextCipher | None]:
        """The ciphers `rotate-key` reads with and writes with (None: plain text). Raises
        BadKey on a typo in either key."""
        return _cipher(self.old_key), _cipher(self.new_key)

    @property
    def api_file_url(self) -> str:
        # The Bot API serves files from /file/bot<token>/…, beside /bot<token>/.
        base = self.api_base_url.rstrip("/")
        return base[: -len("bot")] + "file/bot" if base.endswith("bot") else base + "/file/bot"


def load_config(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> Config:
    """Real environment variables win over `.env`, which wins over the defaults."""
    values: dict[str, str] = {}
    file = env_file if env_file is not None else ROOT / ".env"
    if file.is_file():
        values.update({k: v for k, v in dotenv_values(file).items() if v is not None})
    values.update(os.environ if environ is None else environ)

    def get(name: str, default: str = "") -> str:
        return values.get(name, default).strip()

    port = get("WEBHOOK_PORT", "8443")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"WEBHOOK_PORT must be a port number, not {port!r}")
    level = get("LOG_LEVEL", "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}")
    zone = get("DEFAULT_TIMEZONE", "UTC") or "UTC"
    from bot.core.timezones import load_zone  # when called: the module stays a leaf

    try:
        load_zone(zone)
    except (KeyError, ValueError):  # UnknownZoneError is a ValueError
        raise ConfigError(
            f"DEFAULT_TIMEZONE {zone!r} is not a time zone (try Europe/Berlin)"
        ) from None
    interval = _number(get("DISPATCH_INTERVAL_SECONDS", "1"), "DISPATCH_INTERVAL_SECONDS")
    rate = _number(get("SEND_RATE", "30"), "SEND_RATE")
    concurrent = _count(get("MAX_CONCURRENT_UPDATES", "128"), "MAX_CONCURRENT_UPDATES")
    per_person = _count(get("MAX_WAITING_PER_PERSON", "8"), "MAX_WAITING_PER_PERSON")
    turn_timeout = _number(get("TURN_TIMEOUT_SECONDS", "60"), "TURN_TIMEOUT_SECONDS")
    replan = _number(get("REPLAN_INTERVAL_SECONDS", "60"), "REPLAN_INTERVAL_SECONDS")
    grace = _number(get("OUTBOX_GRACE_SECONDS", "90"), "OUTBOX_GRACE_SECONDS")
    sweep = _number(get("OUTBOX_SWEEP_SECONDS", "30"), "OUTBOX_SWEEP_SECONDS")
    reclaim = _number(get("CHECKIN_RECLAIM_SECONDS", "300"), "CHECKIN_RECLAIM_SECONDS")
    pool_size = _count(get("DATABASE_POOL_SIZE", "10"), "DATABASE_POOL_SIZE")
    database_url = get("DATABASE_URL")
    if database_url and not database_url.startswith(POSTGRES_SCHEMES):
        # Not echoed: the URL may carry a password.
        raise ConfigError("DATABASE_URL must be a postgresql://... URL, or empty for SQLite")
    webhook_url = get("WEBHOOK_URL")
    secret = get("WEBHOOK_SECRET")
    if webhook_url and not secret:
        raise ConfigError(
            "WEBHOOK_URL is set: set WEBHOOK_SECRET too, so forged updates are refused"
        )
    return Config(
        token=get("TELEGRAM_BOT_TOKEN"),
        database_path=Path(get("DATABASE_PATH") or str(ROOT / "mend.sqlite3")),
        database_url=database_url,
        database_pool_size=pool_size,
        dialogues_dir=Path(get("DIALOGUES_DIR") or str(ROOT / "dialogues")),
        cache_dir=Path(get("CACHE_DIR") or str(DEFAULT_CACHE_DIR)),
        protect_content=_yes_no(get("PROTECT_CONTENT", "true"), "PROTECT_CONTENT"),
        default_timezone=zone,
        log_level=level,
        api_base_url=get("TELEGRAM_API_BASE_URL") or DEFAULT_API,
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=get("WEBHOOK_LISTEN", "127.0.0.1") or "127.0.0.1",
        webhook_port=int(port),
        encryption_key=get("ENCRYPTION_KEY"),
        old_key=get("OLD_KEY"),
        new_key=get("NEW_KEY"),
        dispatch_interval=interval,
        send_rate=rate,
        max_concurrent_updates=concurrent,
        max_waiting_per_person=per_person,
        turn_timeout=turn_timeout,
        replan_interval=replan,
        outbox_grace=grace,
        outbox_sweep_interval=sweep,
        checkin_reclaim=reclaim,
    )


def _cipher(key: str) -> TextCipher | None:
    from bot.store.crypto import TextCipher

    return TextCipher(key) if key else None


def _yes_no(text: str, name: str) -> bool:
    value = text.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def _count(text: str, name: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 1_000_000:
        raise ConfigError(f"{name} must be a whole number above 0, not {text!r}")
    return int(text)


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not 0 < value < 1e6:
        raise ConfigError(f"{name} must be above 0 and below 1,000,000, not {value}")
    return value
