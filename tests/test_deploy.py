"""The deployment files agree with the code: every variable they set is one Mend reads,
the proxy forwards only the webhook path and health-checks the real health path, the
replicas share one PostgreSQL, and the image runs as an unprivileged user.

Docker itself is not run here (no daemon, no registry on the test machine): these checks
catch the drift that would make `docker compose up` start a bot that ignores its settings.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.config import POSTGRES_SCHEMES
from bot.telegram.webhook import HEALTH_PATH, PATH

ROOT = Path(__file__).resolve().parent.parent
READ = set(re.findall(r'get\("([A-Z_]+)"', (ROOT / "bot" / "config.py").read_text()))
# Read by the PostgreSQL image or the proxy, not by Mend.
OTHERS = {"POSTGRES_USER", "POSTGRES_DB", "POSTGRES_PASSWORD", "MEND_DOMAIN"}


def compose() -> dict[str, object]:
    loaded = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_config_reads_the_variables_this_test_knows() -> None:
    assert {"DATABASE_URL", "WEBHOOK_URL", "WEBHOOK_SECRET", "ENCRYPTION_KEY"} <= READ


def test_every_variable_in_env_example_is_read_and_every_one_read_is_documented() -> None:
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z_]+)=", example, flags=re.MULTILINE))
    assert listed - READ - OTHERS == set()
    readme = (ROOT / "README.md").read_text()
    undocumented = {name for name in READ if f"`{name}`" not in readme and name not in listed}
    # OLD_KEY and NEW_KEY are rotate-key's, shown in its own README section.
    assert undocumented - {"OLD_KEY", "NEW_KEY"} == set()


def test_two_replicas_share_one_postgres_and_set_only_known_variables() -> None:
    services = compose()["services"]
    assert isinstance(services, dict)
    replicas = {name: s for name, s in services.items() if isinstance(s, dict) and "build" in s}
    assert len(replicas) >= 2
    urls = set()
    for service in replicas.values():
        environment = service["environment"]
        assert set(environment) <= READ, set(environment) - READ
        url = environment["DATABASE_URL"]
        assert url.startswith(POSTGRES_SCHEMES)
        urls.add(url)
        host = re.search(r"@([^:/]+)", url)
        assert host is not None and host.group(1) in services  # the database service
        assert service["depends_on"][host.group(1)]["condition"] == "service_healthy"
        assert service.get("read_only") is True and "ALL" in service["cap_drop"]
    assert len(urls) == 1
    db = services["db"]
    assert isinstance(db, dict) and set(db["environment"]) <= OTHERS


def test_the_proxy_forwards_only_the_webhook_to_every_replica() -> None:
    caddy = (ROOT / "deploy" / "Caddyfile").read_text()
    handled = re.findall(r"^\s*handle (\S+) \{", caddy, flags=re.MULTILINE)
    assert handled == [PATH]
    services = compose()["services"]
    assert isinstance(services, dict)
    replicas = sorted(name for name, s in services.items() if isinstance(s, dict) and "build" in s)
    upstream = re.search(r"reverse_proxy ([^{]+)\{", caddy)
    assert upstream is not None
    port = services[replicas[0]]["environment"]["WEBHOOK_PORT"]
    assert sorted(upstream.group(1).split()) == [f"{name}:{port}" for name in replicas]
    assert f"health_uri {HEALTH_PATH}" in caddy
    # Everything else is refused at the proxy: /healthz and /metrics stay internal.
    assert re.search(r"handle \{\s*respond 404\s*\}", caddy)


def test_the_image_runs_unprivileged_with_known_settings() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    user = re.findall(r"^USER (\S+)", dockerfile, flags=re.MULTILINE)
    assert user and user[-1] not in {"root", "0"}
    env_block = re.search(r"^ENV ((?:.*\\\n)*.*)$", dockerfile, flags=re.MULTILINE)
    assert env_block is not None
    names = set(re.findall(r"([A-Z_]+)=", env_block.group(1)))
    assert names - {"PATH", "PYTHONUNBUFFERED"} <= READ
    assert HEALTH_PATH in dockerfile
    assert 'CMD ["python", "-m", "bot", "run"]' in dockerfile
