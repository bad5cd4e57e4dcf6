"""Collects one turn's messages and effects while the engine walks, keeping the session in step."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.core import buttons
from bot.core.locale_format import PLURAL_COUNT, friendly_date, plural_category
from bot.core.model import Script
from bot.core.resources import resources_html
from bot.core.session import (
    BOOL_SETTINGS,
    ENCRYPTED_FACT,
    Position,
    Promise,
    Session,
)
from bot.core.template import Markup
from bot.core.turn import (
    Button,
    ChangeSetting,
    CompleteFlow,
    Effect,
    KeepPromise,
    OutMessage,
    SaveAnswer,
    Turn,
)


@dataclass
class TurnBuilder:
    script: Script
    session: Session
    now: datetime
    messages: list[OutMessage] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    trail: list[tuple[str, str]] = field(default_factory=list)
    # The script holding every language: a change of language switches `script` mid-turn,
    # so the next message is already in the new one.
    root: Script | None = None
    stale_press: bool = False  # the press being answered belonged to an earlier step
    _resources: tuple[str, str] | None = None  # (country, html), built once per turn
    _derived_cache: tuple[object, dict[str, str]] | None = None

    def values(self, *, flagged: bool = False) -> dict[str, str]:
        values = self.session.values(self.now, flagged=flagged)
        country = self.session.settings.country
        if self._resources is None or self._resources[0] != country:
            self._resources = (country, resources_html(self.script, country))
        values["safety.resources"] = self._resources[1]
        values.update(self._derived())
        return values

    def _derived(self) -> dict[str, str]:
        """Names the engine derives from the session, built once a turn (values() runs for
        every template) and again only if what they come from changed during the turn."""
        s = self.session
        source = (s.facts.get(ENCRYPTED_FACT), s.completed, s.settings, s.started_at)
        if self._derived_cache is None or self._derived_cache[0] != source:
            key = "privacy.encrypted" if source[0] == "yes" else "privacy.not_encrypted"
            locale = self.script.language.locale
            derived = {
                "privacy.encryption": Markup(self.script.string(key).render({})),
                "progress.practice_list": self._practice_list(),
                "progress.practices": str(len(s.completed & self.script.practices)),
                "settings.paused_until_text": _friendly_date(s.settings.paused_until, locale),
                "settings.language_name": self.script.language.name,
            }
            for name in BOOL_SETTINGS:  # "on" / "off" in the person's language
                derived[f"settings.{name}"] = self.label(
                    "setting_on" if getattr(s.settings, name) else "setting_off"
                )
            if s.started_at is not None:
                days = max(0, (self.now - s.started_at).days)
                derived["progress.days_text"] = (
                    self.plural("days", days) if days else self.label("progress.first_day")
                )
            self._derived_cache = (source, derived)
        return self._derived_cache[1]

    def plural(self, name: str, count: int) -> str:
        """`count` with its noun in the form this language's rules pick ("3 дня"); the bare
        number when the language has no such phrase."""
        forms = self.script.plurals.get(name, {})
        form = forms.get(plural_category(count, self.script.language.locale)) or forms.get("other")
        return form.render({PLURAL_COUNT: str(count)}) if form else str(count)

    def _practice_list(self) -> str:
        """The practices finished, by title: which, not only how many."""
        flows = self.script.flows
        done = sorted(self.session.completed & self.script.practices)
        titles = [flows[f].title for f in done if f in flows]
        if not titles:
            return ""
        return self.script.string("progress.finished").render(
            {"progress.titles": ", ".join(titles)}
        )

    def say(
        self, text: str, keys: tuple[Button, ...] = (), pin: bool = False, private: bool = False
    ) -> None:
        if text.strip() or keys:
            self.messages.append(OutMessage(text, keys, pin, private))

    def say_string(self, key: str, extra: dict[str, str] | None = None) -> None:
        self.say(self.script.string(key).render(self.values() | (extra or {})))

    def label(self, key: str) -> str:
        return self.script.string(key).render({})

    def effect(self, effect: Effect) -> None:
        self.effects.append(effect)
        # Keep the session in step with what is stored, so later nodes see it.
        s = self.session
        if isinstance(effect, SaveAnswer):
            self.session = dataclasses.replace(
                s, answers=dict(s.answers) | {effect.name: effect.value}
            )
        elif isinstance(effect, ChangeSetting):
            changes: dict[str, Any] = {effect.name: effect.value}
            self.session = dataclasses.replace(
                s, settings=dataclasses.replace(s.settings, **changes)
            )
            if effect.name == "language" and self.root is not None:
                self.script = self.root.for_language(str(effect.value))
                self._resources = self._derived_cache = None
        elif isinstance(effect, CompleteFlow):
            self.session = dataclasses.replace(s, completed=s.completed | {effect.flow})
        elif isinstance(effect, KeepPromise):
            kept = tuple(
                Promise(p.id, p.text, True) if p.id == effect.commitment_id else p
                for p in s.promises
            )
            self.session = dataclasses.replace(s, promises=kept)

    def move(self, position: Position | None) -> None:
        self.session = dataclasses.replace(self.session, position=position)

    def suspend(self, position: Position | None) -> None:
        self.session = dataclasses.replace(self.session, suspended=position)

    def button(self, label: str, flow: str, node: str, token: str) -> Button:
        code = buttons.ButtonCode(self.script.version, flow, node, token)
        return Button(label, code.encode())

    def global_button(self, key: str, token: str, flow: str = "") -> Button:
        return self.button(self.label(key), flow, "", token)

    def turn(self) -> Turn:
        return Turn(
            tuple(self.messages),
            tuple(self.effects),
            self.session,
            tuple(self.trail),
            stale_press=self.stale_press,
        )


def _friendly_date(iso: str, locale: str) -> str:
    """ "2026-12-08" as "Tuesday, 8 December 2026" in the person's language."""
    try:
        day = date.fromisoformat(iso)
    except ValueError:
        return ""
    return friendly_date(day, locale)
