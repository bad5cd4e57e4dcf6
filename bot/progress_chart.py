"""Draw the last 30 days as a PNG, in-process (matplotlib's Agg backend, no browser).

Two rows over the same days: how the day went (bars, with gaps for days without a
check-in) and promises kept (a line). No words are drawn but the axis labels, which
come in from the caller, so the chart holds nothing personal beyond the counts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from bot.core.locale_format import short_date
from bot.core.progress_history import Day


def render_png(days: Sequence[Day], labels: dict[str, str], locale: str = "en_GB") -> bytes:
    import matplotlib

    matplotlib.use("Agg")  # no display, no browser: a bitmap in memory
    from matplotlib import pyplot as plt

    xs = list(range(len(days)))
    moods = [d.mood for d in days]
    kept = [d.promises_kept for d in days]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 4.2), dpi=110, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    try:
        colours = ["#d9d9d9" if not d.checked_in else "#4a7c8c" for d in days]
        top.bar(xs, [m if m else 0.15 for m in moods], color=colours, width=0.75)
        top.set_ylim(0, 3.3)
        top.set_yticks([1, 2, 3], [labels["slipped"], labels["hard"], labels["steady"]])
        top.set_title(labels["title"], fontsize=11)
        bottom.plot(xs, kept, color="#c17d3c", marker="o", markersize=3, linewidth=1.5)
        bottom.set_ylim(0, max(3, *kept) + 0.5)
        bottom.set_ylabel(labels["kept"], fontsize=9)
        ticks = [0, len(days) // 2, len(days) - 1] if days else []
        bottom.set_xticks(ticks, [short_date(days[i].day, locale) for i in ticks])
        for axis in (top, bottom):
            axis.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
