"""Settings come from the environment and `.env`; mistakes get a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config
from bot.store.crypto import BadKey, generate_key


def test_defaults_and_env_file_with_real_environment_winning(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=from-file\nLOG_LEVEL=debug\nWEBHOOK_PORT=9000\n")
    config = load_config({"TELEGRAM_BOT_TOKEN": "from-env"}, env_file)
    assert config.token == "from-env"
    assert config.log_level == "DEBUG"
    assert config.webhook_port == 9000
    assert config.send_rate == 30.0
    assert config.defaults().timezone == "UTC"
    assert config.cipher() is None


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"WEBHOOK_PORT": "eighty"}, "WEBHOOK_PORT"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"WEBHOOK_URL": "https://x.example/telegram"}, "WEBHOOK_SECRET"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({"SEND_RATE": "fast"}, "SEND_RATE"),
        ({"MAX_CONCURRENT_UPDATES": "0"}, "MAX_CONCURRENT_UPDATES"),
        ({"MAX_WAITING_PER_PERSON": "2.5"}, "MAX_WAITING_PER_PERSON"),
        ({"TURN_TIMEOUT_SECONDS": "-1"}, "TURN_TIMEOUT_SECONDS"),
        ({"DATABASE_POOL_SIZE": "0"}, "DATABASE_POOL_SIZE"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, environ: dict[str, str], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_config(environ, tmp_path / "missing.env")


def test_intake_limits_and_intervals_are_configurable(tmp_path: Path) -> None:
    environ = {
        "MAX_CONCURRENT_UPDATES": "64",
        "MAX_WAITING_PER_PERSON": "3",
        "TURN_TIMEOUT_SECONDS": "20",
        "REPLAN_INTERVAL_SECONDS": "5",
        "OUTBOX_GRACE_SECONDS": "15",
        "OUTBOX_SWEEP_SECONDS": "3",
    }
    config = load_config(environ, tmp_path / "missing.env")
    assert (config.max_concurrent_updates, config.max_waiting_per_person) == (64, 3)
    assert (config.turn_timeout, config.replan_interval) == (20.0, 5.0)
    assert (config.outbox_grace, config.outbox_sweep_interval) == (15.0, 3.0)
    defaults = load_config({}, tmp_path / "missing.env")
    assert (defaults.max_concurrent_updates, defaults.max_waiting_per_person) == (128, 8)


def test_default_time_zone_is_what_new_people_start_with(tmp_path: Path) -> None:
    config = load_config({"DEFAULT_TIMEZONE": "Europe/Berlin"}, tmp_path / "none")
    assert config.defaults().timezone == "Europe/Berlin"


def test_encryption_key_is_checked(tmp_path: Path) -> None:
    good = load_config({"ENCRYPTION_KEY": generate_key()}, tmp_path / "none")
    assert good.cipher() is not None
    bad = load_config({"ENCRYPTION_KEY": "not-a-key"}, tmp_path / "none")
    with pytest.raises(BadKey):
        bad.cipher()
