"""Bar charts drawn on the server as SVG (no script, so the CSP stays strict).

The geometry is computed here; `templates/supervision/_charts.html` draws it, each bar with a
<title> and its number written beside it. The table next to each chart is the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from portal.core.titles import state_title, title_of
from portal.supervision.levels import LEVELS
from workflows import EXTENSION, RECTIFICATION

WIDTH = 480
LABEL_WIDTH = 150  # horizontal bars: the label column
BAR_SPACE = 270  # horizontal bars: the longest bar
ROW = 26
COLUMN_HEIGHT = 150  # vertical columns: the tallest column
LABEL_CHARS = 9


@dataclass(frozen=True)
class Bar:
    label: str  # as drawn (shortened)
    title: str  # in full, for the <title>
    value: int
    css: str
    x: float
    y: float
    width: float
    height: float
    key: str = ""  # what the bar stands for (a state, a level …), for the table beside it


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    label: str  # the chart's accessible name

    @property
    def empty(self) -> bool:
        return not any(bar.value for bar in self.bars)


def _short(text: str) -> str:
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def horizontal(label: str, rows: list[tuple[str, int, str, str]]) -> Chart:
    """One bar per (label, value, css class, key) row, longest = the largest value."""
    top = max((row[1] for row in rows), default=0) or 1
    bars = [
        Bar(_short(text), text, value, css, LABEL_WIDTH, n * ROW + 4, BAR_SPACE * value / top, ROW - 8, key)
        for n, (text, value, css, key) in enumerate(rows)
    ]
    return Chart(bars, WIDTH, max(len(rows), 1) * ROW + 4, label)


def columns(label: str, rows: list[tuple[str, int, str, str]]) -> Chart:
    """One column per (label, value, css class, key) row, side by side (a series over time)."""
    top = max((row[1] for row in rows), default=0) or 1
    slot = WIDTH / max(len(rows), 1)
    bars = []
    for n, (text, value, css, key) in enumerate(rows):
        height = COLUMN_HEIGHT * value / top
        x, y = n * slot + slot * 0.15, 20 + COLUMN_HEIGHT - height
        bars.append(Bar(text, text, value, css, x, y, slot * 0.7, height, key))
    return Chart(bars, WIDTH, COLUMN_HEIGHT + 44, label)


def dashboard_charts(d) -> dict[str, Chart]:
    """The dashboard's charts, from the same figures as its tables."""

    def level_name(level) -> str:
        return title_of(level) if level else _("Not due soon, or closed")

    return {
        "state": horizontal(
            _("Items by state"),
            [
                (state_title("rectification", s.id), d.by_state.get(s.id, 0), f"bar-state-{s.id}", s.id)
                for s in RECTIFICATION.states
            ],
        ),
        "level": horizontal(
            _("Items by deadline level"),
            [
                (level_name(level), d.by_level.get(level.id, 0), f"bar-{level.id}", level.id)
                for level in reversed(LEVELS)
            ],
        ),
        "category": horizontal(
            _("Items by category"),
            [(t.short or _("No category"), t.items, "bar-items", str(t.key or "")) for t in d.categories],
        ),
        "department": horizontal(
            _("Overdue items by department"),
            [
                (t.label or _("No department"), t.overdue, "bar-supervise", str(t.key or ""))
                for t in d.departments
            ],
        ),
        "months": columns(
            _("Items completed per month"),
            [(m.key[2:].replace("-", "/"), m.completed, "bar-completed", m.key) for m in d.months],
        ),
        "extensions": horizontal(
            _("Extension requests by state"),
            [
                (state_title("extension", s.id), d.extensions.get(s.id, 0), f"bar-ext-{s.id}", s.id)
                for s in EXTENSION.states
            ],
        ),
    }
