"""The state each imported item starts in, from the status its notice states, with the lines that
state it (issue 17: status hints applied on import). Pure Python: no Flask, no database.

The parser gives each problem its `status` (completed, partial, in_progress, planned) from a
status line (整改状态:阶段性完成), its heading (1.…(已完成)), its sub-problems' lines, its category's
status heading ((一)已整改完成的问题) or its own words (目前已全部完成). Here the line that says it is
found again in the uploaded text, by number, so that the step taken on import can cite it. The
mapping from status to state is the rectification workflow's (workflows.rectification).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from portal.notices.parser import (
    HEADING_STATUS,
    LEAD,
    STATUS,
    STATUS_HEADING,
    STATUS_LINE,
    ParsedNotice,
    Problem,
)
from portal.notices.text import normalise
from workflows.rectification import IMPORT_STATES, IMPORT_TRANSITIONS, RECTIFICATION

#: The states an imported item may start in (the office picks one per item in the preview).
START_STATES = (RECTIFICATION.initial, *IMPORT_TRANSITIONS)
# The numbering marker a heading line starts with: 1. / 1、 / (一) / (1) / 一、 / 反馈问题一:
MARKER = re.compile(
    r"^(?:\d{1,3}[.、]|\((?:[一二三四五六七八九十]{1,4}|\d{1,2})\)|[一二三四五六七八九十]{1,4}、|"
    r"反馈问题[一二三四五六七八九十]{1,4}\s*:)\s*"
)
#: How much of a source line the import's audit event keeps (a line can be a whole paragraph).
SOURCE_TEXT_KEPT = 500
# The parser's own fallback: a problem whose text says it is done (目前已全部完成).
SAYS_DONE = re.compile(r"(目前)?已(全部)?完成")


@dataclass(frozen=True)
class SourceLine:
    """A line of the uploaded text: its number (from 1; None when it could not be found again)
    and its text as written."""

    number: int | None
    text: str

    def as_json(self) -> dict:
        return {"line": self.number, "text": self.text[:SOURCE_TEXT_KEPT]}


@dataclass
class StatusHint:
    """What the notice says of one problem: its status, the state that gives, and where."""

    status: str | None
    state: str
    sources: list[SourceLine] = field(default_factory=list)


def state_for(status: str | None) -> str:
    """The state an item whose notice states `status` starts in."""
    return IMPORT_STATES.get(status or "", RECTIFICATION.initial)


def completion_summary(problem: Problem) -> str:
    """The notice's 整改情况 text of a problem (status lines left out), or "" when it has none."""
    lead = LEAD.search(problem.text)
    if lead is None:
        return ""
    lines = problem.text[lead.end() :].split("\n")
    return "\n".join(line for line in lines if not STATUS_LINE.match(line)).strip()


def status_hints(parsed: ParsedNotice, text: str) -> dict[int, StatusHint]:
    """A hint per problem of `parsed` (keyed by `id(problem)`, so that the office's corrections,
    which drop and edit problems in place, keep them), located in `text` as uploaded."""
    lines = [(n, raw.strip(), normalise(raw)) for n, raw in enumerate(_split(text), start=1)]
    marks: list[tuple[object, int | None]] = []  # categories and problems, with their heading line
    cursor = 0
    for category in parsed.categories:
        index = _heading_line(lines, cursor, category.heading) if category.heading else None
        cursor = cursor if index is None else index + 1
        marks.append((category, index))
        for problem in category.problems:
            index = _heading_line(lines, cursor, problem.heading)
            cursor = cursor if index is None else index + 1
            marks.append((problem, index))
    starts = sorted(index for _thing, index in marks if index is not None)
    hints, category_line = {}, None
    for thing, index in marks:
        if not isinstance(thing, Problem):
            category, category_line = thing, index
            continue
        end = next((s for s in starts if index is not None and s > index), len(lines))
        sources = _sources(thing, category, lines, index, end, category_line)
        hints[id(thing)] = StatusHint(thing.status, state_for(thing.status), sources)
    return hints


def _split(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _heading_line(lines, start: int, heading: str) -> int | None:
    """The index of the first line from `start` that is `heading` after a numbering marker."""
    if not heading:
        return None
    for index in range(start, len(lines)):
        norm = lines[index][2]
        marker = MARKER.match(norm)
        if marker and norm[marker.end() :].startswith(heading):
            return index
    return None


def _sources(problem, category, lines, index, end, category_line) -> list[SourceLine]:
    """The lines that state `problem`'s status ([] when it states none, or it is only planned by
    a date). `index`/`end`: where the problem is in `lines`; `category_line`: its category's."""
    if problem.status is None:
        return []

    def line(i: int) -> SourceLine:
        return SourceLine(lines[i][0], lines[i][1])

    def found(pattern: re.Pattern, first_only: bool = True) -> list[SourceLine]:
        if index is None:
            return []
        hits = [line(i) for i in range(index, end) if pattern.search(lines[i][2])]
        return hits[:1] if first_only else hits

    if STATUS.search(problem.own_text):
        return found(STATUS) or [SourceLine(None, STATUS.search(problem.own_text).group(0))]
    if _heading_states(problem.heading):
        return [line(index)] if index is not None else [SourceLine(None, problem.heading)]
    if any(sub.status for sub in problem.sub_problems):
        return found(STATUS, first_only=False) or found(HEADING_STATUS, first_only=False)
    if category.status and category.status == problem.status:
        return [line(category_line)] if category_line is not None else [SourceLine(None, category.heading)]
    if problem.status == "completed":
        return found(SAYS_DONE)
    return []


def _heading_states(heading: str) -> bool:
    return bool(STATUS_HEADING.match(heading) or HEADING_STATUS.search(heading))
