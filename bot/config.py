"""Settings from the environment (and `.env`). The only module that reads either."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from bot.core.session import Settings
from bot.core.timezones import UnknownZoneError, load_zone
from bot.store.crypto import TextCipher

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_API = "https://api.telegram.org/bot"
DEFAULT_CACHE_DIR = ROOT / ".cache"  # the crisis screen's trained model, rebuilt if missing


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class Config:
    token: str = ""
    database_path: Path = ROOT / "mend.sqlite3"
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
    dispatch_interval: float = 1.0  # seconds between looks for due check-ins when idle
    send_rate: float = 30.0  # messages a second overall, Telegram's limit

    def defaults(self) -> Settings:
        """The settings a person starts with."""
        return Settings(timezone=self.default_timezone)

    def cipher(self) -> TextCipher | None:
        """The cipher for text at rest, or None to store it plain. Raises BadKey on a typo."""
        return TextCipher(self.encryption_key) if self.encryption_key else None

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
    try:
        load_zone(zone)
    except (UnknownZoneError, KeyError, ValueError):
        raise ConfigError(
            f"DEFAULT_TIMEZONE {zone!r} is not a time zone (try Europe/Berlin)"
        ) from None
    interval = _number(get("DISPATCH_INTERVAL_SECONDS", "1"), "DISPATCH_INTERVAL_SECONDS")
    rate = _number(get("SEND_RATE", "30"), "SEND_RATE")
    webhook_url = get("WEBHOOK_URL")
    secret = get("WEBHOOK_SECRET")
    if webhook_url and not secret:
        raise ConfigError(
            "WEBHOOK_URL is set: set WEBHOOK_SECRET too, so forged updates are refused"
        )
    return Config(
        token=get("TELEGRAM_BOT_TOKEN"),
        database_path=Path(get("DATABASE_PATH") or str(ROOT / "mend.sqlite3")),
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
        dispatch_interval=interval,
        send_rate=rate,
    )


def _yes_no(text: str, name: str) -> bool:
    value = text.lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, not {text!r}")


def _number(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not 0 < value < 1e6:
        raise ConfigError(f"{name} must be above 0 and below 1,000,000, not {value}")
    return value
