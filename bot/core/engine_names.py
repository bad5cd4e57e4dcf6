"""The names and constants the engine is built on: the roles it starts flows for, the
strings it says outside any flow, the slots it fills. The compiler checks a script
against them (see `compile_requires`)."""

from __future__ import annotations

from datetime import timedelta

from bot.core.export_format import EXPORT_STRINGS
from bot.core.screening import CrisisKind
from bot.core.setting_parsers import PARSERS

CONSENT_ANSWER = "onboarding.consent"
MAX_ANSWER_CHARS = 3000  # a long answer is welcome; past this we ask for the heart of it
MAX_PROMISE_LABEL = 60
REQUIRED_STRINGS = (
    "setting_on",
    "description",
    "short_description",
    "setting_off",
    "answer_too_long",
    "cancelled",
    "check_choice",
    "content_changed",
    "empty_answer",
    "idle_text",
    "keep_button",
    "menu_button",
    "not_text",
    "revise_button",
    "revise_prompt",
    "skip_button",
    "stale_button",
    "text_only",
    "use_buttons",
    "welcome_back",
    "where_now",
    "unknown_command",
    "error_note",
    "edited_note",
    "short_description",
    "chose_prefix",
    "resume_prompt",
    "resume_button",
    "drop_button",
    "dropped",
    "notify_discreet",
    "open_button",
    "couples_talk_off",
    "crisis.resources",
    "crisis.leave",
    "crisis.leave_button",
    "crisis.followup_button",
    "crisis.followup_set",
    "safety.ask",
    "safety.safe_button",
    "safety.unsure_button",
    "safety.unsafe_button",
    "safety.safe_reply",
    "privacy.encrypted",
    "chart.caption",
    "copy_button",
    "progress.finished",
    "progress.first_day",
    "chart.title",
    "chart.steady",
    "chart.hard",
    "chart.slipped",
    "chart.kept",
    "privacy.not_encrypted",
    *(f"crisis.{kind.value}" for kind in CrisisKind),
    *(f"parse.{name}" for name in PARSERS),
    *EXPORT_STRINGS,
)
SAFETY_FOLLOWUP_AFTER = timedelta(days=1)  # when the gentle message after a crisis comes
# The roles (`role:` in a flow's header, see `model.ROLES`) the engine cannot do without.
REQUIRED_ROLES = ("welcome", "onboarding", "menu", "safety_followup")
# One letter a crisis kind, inside the answer buttons of "are you safe right now?".
KIND_CODES = {"s": CrisisKind.SUICIDE, "h": CrisisKind.SELF_HARM, "o": CrisisKind.HARM_OTHERS,
              "a": CrisisKind.ABUSE}  # fmt: skip
CODE_OF_KIND = {kind: code for code, kind in KIND_CODES.items()}
# Slots the engine fills in strings besides answers, settings and progress.
STRING_SLOTS = ("progress.titles", "chart.checkins", "chart.steady", "chart.kept",
                "finding.quote", "limit.chars", "suspended.title", "parse.suggestions")  # fmt: skip


VARIANTS = 3  # wordings of each praise (and one fewer of "thin"); the compiler checks them
