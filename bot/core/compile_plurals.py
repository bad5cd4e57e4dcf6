"""Plural phrases: one file per language (`_plurals.yaml`), each phrase in exactly the
forms that language's CLDR rules distinguish (English one/other; Russian one/few/many/other).

    version: 1
    kind: plurals
    plurals:
      days: {one: "{plural.count} day", other: "{plural.count} days"}
"""

from __future__ import annotations

from bot.core.compile_files import unknown_keys
from bot.core.compile_markup import template
from bot.core.compile_report import PLURAL_FORMS, Report
from bot.core.locale_format import PLURAL_COUNT, plural_categories
from bot.core.template import Template
from bot.core.yamlsource import LineDict

COUNT = PLURAL_COUNT


def plurals(
    path: str, doc: LineDict, locale: str, out: dict[str, dict[str, Template]], report: Report
) -> None:
    unknown_keys(path, doc, {"version", "kind", "plurals"}, report)
    table = doc.get("plurals")
    if not isinstance(table, LineDict):
        report.error(
            PLURAL_FORMS, path, doc.line_of("plurals"), "'plurals' maps a name to its forms"
        )
        return
    wanted = plural_categories(locale)
    for name, forms in table.items():
        line = table.line_of(name)
        if not isinstance(forms, LineDict):
            report.error(PLURAL_FORMS, path, line, f"{name}: a mapping of form: text")
            continue
        if set(forms) != wanted:
            message = (
                f"{name}: {locale} needs exactly the forms {', '.join(sorted(wanted))}"
                f" (CLDR); got {', '.join(sorted(map(str, forms)))}"
            )
            report.error(PLURAL_FORMS, path, line, message)
            continue
        parsed: dict[str, Template] = {}
        for form, text in forms.items():
            t = template(path, forms.line_of(form), text, report, f"plural {name}.{form}")
            if t is None:
                continue
            if {s.name for s in t.slots} != {COUNT}:
                message = f"{name}.{form}: write the number as {{{COUNT}}}, and nothing else"
                report.error(PLURAL_FORMS, path, forms.line_of(form), message)
                continue
            parsed[str(form)] = t
        if len(parsed) == len(forms):
            out[str(name)] = parsed
