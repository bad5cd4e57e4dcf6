"""A person who writes Spanish, Brazilian Portuguese or Russian, end to end through the
fake Bot API: onboarding, a practice, /prepare, a check-in and /export, all in their
language (no English sentence reaches them), and a switch of language in /settings that
changes the very next message. Telegram's `language_code` chooses the language."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.model import Script
from bot.core.template import Template
from tests.fakebot import BotMessage, FakeBotApi, FakeUser
from tests.harness import FakeClock, real_script, running_bot

START = datetime(2026, 11, 29, 18, 0, tzinfo=UTC)  # London 18:00, the check-in at 20:00
ANSWERS = {
    "es": "Te mentí durante meses y elegí seguir viéndome con esa persona.",
    "pt-BR": "Eu menti para você por meses e escolhi continuar vendo essa pessoa.",
    "ru": "Я обманывал тебя несколько месяцев, и это был мой выбор.",
}
CODES = {"es": "es", "pt-BR": "pt-br", "ru": "ru"}  # what Telegram sends
_TAG = re.compile(r"<[^>]+>")


def _literals(template: Template) -> list[str]:
    """The author's own words in a template, piece by piece (slots and tags removed)."""
    out: list[str] = []
    for part in template.parts:
        if isinstance(part, str):
            for piece in re.split(r"\n|<[^>]+>", part):
                if len(piece.strip()) >= 18 and len(piece.split()) >= 3:
                    out.append(piece.strip())
    return out


def _words(script: Script) -> list[str]:
    pieces: list[str] = []
    for flow in script.flows.values():
        for node in flow.nodes.values():
            if node.say is not None:
                pieces += _literals(node.say)
    for template in script.strings.values():
        pieces += _literals(template)
    return pieces


def english_only(root: Script, code: str) -> set[str]:
    """English sentences that the language's script words differently: none of them may
    reach a person reading `code`."""
    theirs = "\n".join(_words(root.for_language(code)))
    return {p for p in _words(root) if p not in theirs}


def labels(root: Script, code: str) -> dict[str, set[str]]:
    """English button label -> its translations (the structure is the same in both)."""
    tr = root.for_language(code)
    out: dict[str, set[str]] = {}
    for flow_id, flow in root.flows.items():
        for node_id, node in flow.nodes.items():
            theirs = tr.flows[flow_id].nodes[node_id]
            for mine, other in zip(node.choices, theirs.choices, strict=True):
                out.setdefault(mine.label, set()).add(other.label)
    for key, template in root.strings.items():
        if key.endswith("_button"):
            out.setdefault(template.render({}), set()).add(tr.strings[key].render({}))
    return out


class Journey:
    """Drives one person by the English names of buttons, pressing their translations."""

    def __init__(self, user: FakeUser, root: Script, code: str) -> None:
        self.user, self.code = user, code
        self.tr = root.for_language(code)
        self.labels = labels(root, code)
        self.after = 0

    def said(self, key: str) -> str:
        return _TAG.sub("", self.tr.strings[key].render({}))

    async def tap(self, english: str, timeout: float = 10.0) -> BotMessage:
        wanted = self.labels[english]
        after = self.after
        message = await self.user.wait_for(
            lambda m: m.message_id > after and bool(wanted & set(m.button_labels)), timeout
        )
        self.after = message.message_id
        await self.user.press(message, next(iter(wanted & set(message.button_labels))))
        return message

    async def walk(self, answer: str, steps: int = 60) -> None:
        """Through whatever flow is open: the first button that moves on, or `answer`
        where text is wanted, until the coach offers the menu again."""
        menu = self.tr.strings["menu_button"].render({})
        avoid = {self.tr.strings[k].render({}) for k in ("revise_button", "drop_button")}
        for _ in range(steps):
            self.user.mark()
            replies = await self.user.wait_reply(1, timeout=10, settle=0.3)
            last = replies[-1]
            choices = [
                b for b in last.button_labels if b not in avoid | {menu} and not _is_copy(last, b)
            ]
            if menu in last.button_labels and not choices:
                return
            if choices:
                self.user.mark()
                await self.user.press(last, choices[0])
            else:
                await self.user.send_text(answer)
        tail = [(m.text, m.button_labels) for m in self.user.messages()[-6:]]
        raise AssertionError(f"{self.code}: the flow never ended; last: {tail}")


def _is_copy(message: BotMessage, label: str) -> bool:
    button = message.button(label)
    return "callback_data" not in button


def every_text(user: FakeUser) -> list[str]:
    out = []
    for m in user.messages(include_deleted=True):
        out += [m.text or "", m.caption or "", *m.button_labels]
    return out


def assert_in_language(user: FakeUser, root: Script, code: str) -> None:
    english = english_only(root, code)
    shown = "\n".join(every_text(user))
    leaked = sorted(p for p in english if p in shown)
    assert not leaked, f"English reached a {code} reader: {leaked[:5]}"


@pytest.mark.parametrize("code", ["es", "pt-BR", "ru"])
async def test_a_person_goes_through_mend_in_their_own_language(
    fake: FakeBotApi, tmp_path: Path, code: str
) -> None:
    root = real_script()
    clock = FakeClock(START)
    async with running_bot(fake, tmp_path / "m.sqlite3", clock=clock, dispatch_interval=0.05):
        user = fake.user(700 + list(CODES).index(code), language_code=CODES[code])
        j = Journey(user, root, code)
        await user.send_command("/start")
        await j.tap("I understand")
        await j.tap("Yes, that's fine")
        await j.tap("That's right")  # the language Telegram's code chose
        await j.tap("We're working on it")
        name = j.tr.flows["onboarding"].nodes["name"].say
        assert name is not None
        await user.wait_for(lambda m: m.text == _TAG.sub("", name.render({})), timeout=10)
        await user.send_text("Alex")
        await j.tap("Yes")  # willing
        await j.tap("No")  # afraid of the partner
        await j.tap("No")  # afraid of what you might do
        await j.tap("London")
        await j.tap("20:00")
        await j.tap("Yes, keep it discreet")
        # A practice, with text answers the language's own checks read.
        user.mark()
        await user.send_command("/menu")
        await j.tap("All practices")
        await j.tap("3. Build an apology")
        await j.walk(ANSWERS[code])
        # Getting ready for a talk.
        user.mark()
        await user.send_command("/prepare")
        await j.walk(ANSWERS[code])
        # The check-in, at 20:00 London time.
        user.mark()
        clock.advance(hours=2, minutes=5)
        note = await user.wait_for(lambda m: m.text == j.said("notify_discreet"), timeout=10)
        await user.press(note, j.tr.strings["open_button"].render({}))
        await j.walk(ANSWERS[code])
        # Everything stored, as files.
        user.mark()
        await user.send_command("/export")
        await fake.wait_until(
            lambda: len([d for d in fake.documents if d.chat_id == user.id]) >= 2, 10
        )
        assert_in_language(user, root, code)
        markdown = next(
            d.document.content or b""
            for d in fake.documents
            if d.chat_id == user.id and d.document and (d.document.filename or "").endswith(".md")
        ).decode()
        assert _TAG.sub("", j.tr.strings["export.title"].render({})) in markdown
        assert root.strings["export.title"].render({}) not in markdown
        # The command menu is registered in this language too.
        short = code.split("-")[0]
        described = {c["command"]: c["description"] for c in fake.commands_by_language[short]}
        assert described["menu"] == j.tr.strings["command.menu"].render({})
        assert fake.short_descriptions[short] == j.tr.strings["short_description"].render({})


async def test_switching_language_in_settings_changes_the_next_message(
    fake: FakeBotApi, tmp_path: Path
) -> None:
    root = real_script()
    async with running_bot(fake, tmp_path / "m.sqlite3"):
        user = fake.user(720, language_code="en")
        en = Journey(user, root, "en")
        await user.send_command("/start")
        for label in ("I understand", "Yes, that's fine", "That's right"):
            await en.tap(label)
        await user.wait_for(lambda m: m.text == "Where are you right now?")
        user.mark()
        await user.send_command("/settings")
        await en.tap("Language")
        picker = await user.wait_for(lambda m: "Русский" in m.button_labels)
        user.mark()
        await user.press(picker, "Русский")
        [chosen, *_rest] = await user.wait_reply(2, settle=0.3)
        ru = root.for_language("ru")
        said = ru.flows["language_picker"].nodes["chosen"].say
        assert said is not None
        assert chosen.text == _TAG.sub("", said.render({"settings.language_name": "Русский"}))
        user.mark()
        await user.send_command("/help")
        replies = await user.wait_reply(1, settle=0.3)
        help_words = _literals(ru.flows["help"].nodes[ru.flows["help"].start].say)  # type: ignore[arg-type]
        assert help_words and help_words[0] in (replies[0].text or "")


def test_telegram_codes_choose_a_language() -> None:
    from bot.core.languages import telegram_language

    languages = real_script().languages
    assert telegram_language(languages, "pt-br") == "pt-BR"
    assert telegram_language(languages, "pt") == "pt-BR"
    assert telegram_language(languages, "pt-PT") == "pt-BR"  # the one Portuguese we have
    assert telegram_language(languages, "es-419") == "es"
    assert telegram_language(languages, "ru") == "ru"
    assert telegram_language(languages, "de") == "en"
    assert telegram_language(languages, None) == "en"
    assert telegram_language(languages, "") == "en"


def test_dates_and_counts_follow_the_language() -> None:
    from bot.core.session import Session
    from bot.core.turn_builder import TurnBuilder

    root = real_script()
    now = START
    ru = TurnBuilder(root.for_language("ru"), Session(), now)
    assert [ru.plural("days", n) for n in (1, 3, 5, 11, 21, 22)] == [
        "1 день", "3 дня", "5 дней", "11 дней", "21 день", "22 дня",
    ]  # fmt: skip
    en = TurnBuilder(root, Session(), now)
    assert [en.plural("days", n) for n in (1, 2)] == ["1 day", "2 days"]
    es = TurnBuilder(root.for_language("es"), Session(), now)
    assert es.plural("practices", 1) == "1 práctica"
    from bot.core.locale_format import friendly_date

    day = (now + timedelta(days=9)).date()
    assert friendly_date(day, "es") == "martes, 8 de diciembre de 2026"
    assert friendly_date(day, "ru") == "вторник, 8 декабря 2026\u202fг."


@pytest.mark.parametrize(
    ("code", "days", "shown"),
    [("ru", 5, "5 дней"), ("ru", 22, "22 дня"), ("es", 1, "1 día"), ("en", 2, "2 days")],
)
def test_progress_counts_days_in_the_forms_of_the_persons_language(
    code: str, days: int, shown: str
) -> None:
    import dataclasses

    from bot.core.events import StartFlow
    from bot.core.session import Session, Settings
    from tests.person import Person

    session = Session(
        completed=frozenset({"onboarding"}),
        answers={"onboarding.consent": "yes"},
        started_at=START - timedelta(days=days),
        settings=dataclasses.replace(Settings(), language=code),
    )
    p = Person(real_script(), session, now=START)
    p.send(StartFlow("progress"))
    assert f"<b>{shown}</b>" in p.text() or shown in p.text()
