"""A parsed notice (portal.notices.parser.ParsedNotice) written out as notice text. Pure Python.

`render_text` writes what the parse found in the genre's own form: the title, an opening
sentence with the team, the unit and the dates, the stated totals, then the problems in their
sections, categories, problems and sub-problems, each with its measures (一是…, one a line) and
its status line (整改状态:…), and the contact line. Parsed again it gives the same tree
(tests/notices/test_round_trip.py). It leaves out the narrative sections (the report text) and
whatever the parse could not read (dates whose digits ran together).

portal/notices/export.py writes the notice of an imported inspection from the database; this
module needs no database and no Flask.
"""

from __future__ import annotations

from datetime import date

from portal.notices.parser import Category, Measure, ParsedNotice, Problem, SubProblem

CN_NUMERALS = "一二三四五六七八九十"
STATUS_WORDS = {
    "completed": "已完成",
    "partial": "阶段性完成",
    "in_progress": "正在整改",
    "planned": "未完成",
}
GENERIC_SECTION = "巡察反馈问题整改情况"
# A closing section that the parser reads as narrative (巩固): the contact line after it stays
# out of the last problem, and the text never ends with a heading (which would read as cut off).
CLOSING_SECTION = "持续巩固整改成效"
CLOSING = "对已完成的整改任务适时组织“回头看”,对需要长期坚持的加强跟踪督办,持续巩固整改成效。"


def cn_numeral(n: int) -> str:
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


def cn_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def render_text(notice: ParsedNotice) -> str:
    lines: list[str] = []
    for paragraph in (notice.title, _opening(notice), _totals(notice.summary)):
        if paragraph:
            lines += [paragraph, ""]
    groups = _groups(notice.categories)
    for n, group in enumerate(groups, start=1):
        first = group[0]
        if first.level == "section":
            lines += [f"{first.label or cn_numeral(n)}、{first.heading or first.title}", ""]
            lines += _category_text(first)
            for problem in first.problems:
                lines += _problem(problem)
            continue
        lines += [f"{cn_numeral(n)}、{GENERIC_SECTION}", ""]
        for category in group:
            if category.level == "category":
                lines += [f"({category.label}){category.heading or category.title}", ""]
                lines += _category_text(category)
            for problem in category.problems:
                lines += _problem(problem)
    lines += [f"{cn_numeral(len(groups) + 1)}、{CLOSING_SECTION}", "", CLOSING, ""]
    contact = _contact(notice)
    if contact:
        lines += [contact, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _groups(categories: list[Category]) -> list[list[Category]]:
    """Categories by the section they are written in: a subject section alone; a run of (一)
    categories under one generic section, after the problems of no category if any."""
    groups: list[list[Category]] = []
    for category in categories:
        if category.level == "category" and groups and groups[-1][0].level != "section":
            groups[-1].append(category)
        else:
            groups.append([category])
    return groups


def _opening(notice: ParsedNotice) -> str:
    team, unit = notice.inspection_team, notice.inspected_unit
    parts = []
    if notice.inspection_start or team:
        period = (
            f"{cn_date(notice.inspection_start)}至{cn_date(notice.inspection_end)},"
            if notice.inspection_start and notice.inspection_end
            else ""
        )
        parts.append(f"根据巡察工作统一部署,{period}{team}{'对' + unit if team and unit else ''}开展了巡察。")
    if notice.feedback_date:
        to = f"{team}向{unit or '被巡察单位'}" if team else ""
        parts.append(f"{cn_date(notice.feedback_date)},{to}反馈了巡察意见。")
    return "".join(parts)


def _totals(summary: dict[str, int]) -> str:
    if "total" not in summary:
        return ""
    counts = "".join(
        f"{summary[key]}{unit}"
        for key, unit in (("aspects", "个方面"), ("classes", "类"), ("units", "个单位"))
        if key in summary
    )
    sentence = f"巡察反馈{counts}共{summary['total']}项问题"
    if "completed" in summary:
        sentence += f",已整改{summary['completed']}项"
    if summary.get("partial"):
        sentence += f",阶段性完成{summary['partial']}项"
    if "in_progress" in summary:
        sentence += f",正在整改{summary['in_progress']}项"
    return sentence + "。"


def _category_text(category: Category) -> list[str]:
    return [category.text, ""] if category.text else []


def _heading(number: str, heading: str, sub: bool = False) -> str:
    if sub:
        return f"({number}){heading}"
    # "1.2019年…" would read as a decimal number: keep a space after the full stop.
    return f"{number}. {heading}" if heading[:1].isdigit() else f"{number}.{heading}"


def _measures(measures: list[Measure]) -> list[str]:
    """One measure a line, the first after 整改情况: (what marks a problem's measures)."""
    lines = [f"{m.label}{m.text}" for m in measures]
    return [f"整改情况:{lines[0]}", *lines[1:]] if lines else []


def _status(status: str | None) -> list[str]:
    return [f"整改状态:{STATUS_WORDS[status]}"] if status in STATUS_WORDS else []


def _sub_problem(sub: SubProblem) -> list[str]:
    return [
        _heading(sub.number, sub.heading or sub.title, sub=True),
        *_measures(sub.measures),
        *_status(sub.status),
    ]


def _problem(problem: Problem) -> list[str]:
    own = [m for m in problem.measures if m.sub_problem is None]
    lines = [
        _heading(problem.number, problem.heading or problem.title),
        *_measures(own),
        *_status(problem.status),
    ]
    for sub in problem.sub_problems:
        lines += _sub_problem(sub)
    return [*lines, ""]


def _contact(notice: ParsedNotice) -> str:
    parts = [
        f"{label}:{value}"
        for label, value in (
            ("联系方式", notice.contact_phone),
            ("邮政地址", notice.contact_address),
            ("电子邮箱", notice.contact_email),
        )
        if value
    ]
    return ";".join(parts) + "。" if parts else ""
