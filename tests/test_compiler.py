"""Every compiler error, each from a broken fixture that names its file and line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.compiler import compile_script
from bot.core.model import NodeKind
from tests.scripts import FIXTURES, ROOT, compile_fixture, fixture_sources

BROKEN = sorted(p.name for p in (FIXTURES / "broken").glob("*.yaml"))


def expectation(name: str) -> tuple[int, str, str]:
    first = (FIXTURES / "broken" / name).read_text().splitlines()[0]
    m = re.match(r"# expect: (\d+): (M\d{3}) (.+)$", first)
    assert m, f"{name} needs an '# expect: LINE: CODE text' first line"
    return int(m.group(1)), m.group(2), m.group(3)


def test_the_fixture_base_compiles_cleanly() -> None:
    result = compile_fixture()
    assert result.script is not None
    assert result.diagnostics == []


@pytest.mark.parametrize("name", BROKEN)
def test_broken_fixture_names_file_and_line(name: str) -> None:
    line, code, text = expectation(name)
    result = compile_fixture(name)
    path = str(FIXTURES / "broken" / name)
    rendered = [str(d) for d in result.diagnostics]
    wanted = [
        r for r in rendered if r.startswith(f"{path}:{line}:") and text in r and f"[{code} " in r
    ]
    assert wanted, f"expected {path}:{line}: …{text}… [{code} …] in:\n" + "\n".join(rendered)
    if "warning" in text:
        assert result.script is not None, "warnings alone must not stop the coach"
    else:
        assert result.script is None, "an error must stop the coach"


def test_all_broken_fixtures_at_once_report_every_error() -> None:
    result = compile_fixture(*BROKEN)
    paths = {Path(d.path).name for d in result.diagnostics}
    assert set(BROKEN) <= paths


def test_missing_required_flows_and_strings_are_errors() -> None:
    result = compile_script({"only.yaml": "version: 1\nkind: strings\nstrings: {}\n"})
    messages = " ".join(d.message for d in result.errors)
    assert "'menu' role" in messages and "'onboarding' role" in messages
    assert "missing string 'stale_button'" in messages


def test_compiled_nodes_are_frozen_and_typed() -> None:
    result = compile_fixture()
    assert result.script is not None
    demo = result.script.flows["demo"]
    assert demo.nodes["what"].kind is NodeKind.ASK
    assert demo.nodes["fork"].kind is NodeKind.BRANCH
    assert demo.nodes["call_helper"].kind is NodeKind.CALL
    with pytest.raises(AttributeError):
        demo.nodes["what"].id = "other"  # type: ignore[misc]


def test_version_changes_with_content() -> None:
    a = compile_script(fixture_sources())
    sources = fixture_sources()
    key = next(k for k in sources if k.endswith("demo.yaml"))
    sources[key] = sources[key].replace("Done.", "Finished.")
    b = compile_script(sources)
    assert a.script and b.script and a.script.version != b.script.version


def test_check_command_exits_nonzero_with_diagnostics(tmp_path: Path) -> None:
    """`bot check` on a broken `next:` names that line, the code and a suggestion."""
    broken_next = FIXTURES / "diagnostics" / "next_target.yaml"
    sources = fixture_sources("dead_end.yaml") | {str(broken_next): broken_next.read_text()}
    for path, text in sources.items():
        (tmp_path / Path(path).name).write_text(text)
    run = subprocess.run(
        [sys.executable, "-m", "bot", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.returncode == 1
    assert f"{tmp_path / 'dead_end.yaml'}:8: error:" in run.stderr
    assert (
        f"{tmp_path / 'next_target.yaml'}:21: error: node 'message' leads to unknown node "
        "'clsing'; did you mean 'closing'? [M101 unknown-next-target]"
    ) in run.stderr.splitlines()


def test_check_command_passes_on_the_real_dialogues() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "bot", "check"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert "0 warning(s)" in run.stdout
