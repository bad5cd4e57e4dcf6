"""Build scripts for tests: the real strings plus small fixture flows."""

from __future__ import annotations

from pathlib import Path

from bot.core.compiler import CompileResult, compile_script
from bot.core.model import Script

ROOT = Path(__file__).resolve().parent.parent
DIALOGUES = ROOT / "dialogues"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
ENGINE_FLOWS = ("safety_followup", "welcome")


def shared_sources() -> dict[str, str]:
    """The real files every script needs: `_*.yaml` (strings and data tables), the crisis
    lexicons and the flows the engine itself starts (the corpus is left out: fixture
    scripts screen with the rules alone, so their tests never wait for training)."""
    files = [*DIALOGUES.glob("_*.yaml"), *DIALOGUES.glob("screening/*.yaml")]
    files += DIALOGUES.glob("checks/*.yaml")
    files += [DIALOGUES / f"{flow}.yaml" for flow in ENGINE_FLOWS]
    return {str(p): p.read_text() for p in sorted(files)}


def fixture_sources(*names: str, base: bool = True) -> dict[str, str]:
    sources = shared_sources()
    if base:
        sources |= {str(p): p.read_text() for p in sorted((FIXTURES / "base").glob("*.yaml"))}
    for name in names:
        path = FIXTURES / "broken" / name
        sources[str(path)] = path.read_text()
    return sources


def compile_fixture(*names: str) -> CompileResult:
    return compile_script(fixture_sources(*names))


def demo_script() -> Script:
    result = compile_fixture()
    assert result.script is not None, "\n".join(map(str, result.diagnostics))
    return result.script
