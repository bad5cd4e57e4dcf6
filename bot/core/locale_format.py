"""Dates and plural forms in the person's language, from CLDR data (Babel), not by hand."""

from __future__ import annotations

from datetime import date
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

PLURAL_COUNT = "plural.count"  # the number's slot in a plural phrase


@cache
def _locale(tag: str) -> Locale:
    try:
        return Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def known_locale(tag: str) -> bool:
    try:
        Locale.parse(tag)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def friendly_date(day: date, locale: str) -> str:
    """The weekday, day, month and year ("Tuesday, 8 December 2026"): says more than digits."""
    return format_date(day, "full", locale=_locale(locale))


def short_date(day: date, locale: str) -> str:
    """Day and month, as a chart's axis shows them ("8 Dec", "8 дек.")."""
    return format_skeleton("MMMd", day, locale=_locale(locale))


def plural_categories(locale: str) -> frozenset[str]:
    """The plural forms a language distinguishes (CLDR): English one/other, Russian
    one/few/many/other."""
    return frozenset(_locale(locale).plural_form.tags | {"other"})


def plural_category(count: int, locale: str) -> str:
    return str(_locale(locale).plural_form(count))
