"""Parse a published rectification notice (整改情况通报) into inspection, categories, problems
and measures. Pure Python: no Flask, no database.

It never raises on text: whatever it cannot place becomes a warning (a `ParseWarning`: its
English text, plus a code and parameters the interface translates). Sections whose (一) and
一是 are organisational steps (一、组织领导…, 三、坚持常抓不懈…) go to the report text, not to
the problem list.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal

from portal.notices.text import normalise

CN_DIGITS = "一二三四五六七八九十"
CN = f"[{CN_DIGITS}]+"
SECTION = re.compile(rf"^({CN})、(.+)$")
CATEGORY = re.compile(rf"^\(({CN})\)(.+)$")
PROBLEM = re.compile(r"^(\d{1,3})[.、](?!\d)\s*(.+)$")
PROBLEM_CN = re.compile(rf"^反馈问题({CN})\s*:\s*(.+)$")
SUB_PROBLEM = re.compile(r"^\((\d{1,2})\)(.+)$")
MEASURE = re.compile(rf"(?:^|(?<=[。;!?\n]))\s*({CN})是")
QUOTED = re.compile(r"[“\"]\s*(.+?)\s*[”\"]")
TITLE = re.compile(
    r"(关于.*?(?:整改情况的通报|整改进展情况的通报|整改情况报告|整改情况的报告|"
    r"整改进展情况通报))"
)
CLUTTER = re.compile(
    r"^(?:\d+$|[\-•·*●▪■]+\s*|https?://\S+$|(?:索引号|发布日期|信息来源|来源|浏览量|"
    r"浏览次数|点击数|字号|朗读|分享|打印|关闭|首页|当前位置|发布机构|主题分类)\b.*|.*>.*>.*)"
)
STATUS = re.compile(r"整改状态\s*:\s*(阶段性完成|已完成|完成|未完成|持续推进)")
SUMMARY = re.compile(r"反馈(\d+)个(?:具体)?问题.{0,6}?整改完成(\d+)个(?:.{0,4}?阶段性完成(\d+)个)?")
STATED = re.compile(r"(?:反馈的?|共|反馈意见中的?)(\d+)(?:项|个|条)(?:具体)?问题")
YEAR_MONTH = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(份)?(底|前|以前|之前)?")
PLANNED_CUE = re.compile(r"计划|预计|拟|力争|争取|将于|将在|预期")
# Money in the text; thresholds ("5万元(含)以上的项目") are rules, not amounts.
AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|万(?!元)|元)(?!\s*(?:\(含\))?\s*(?:以上|以下))")
RECOVER = re.compile(
    r"追回(?:资金)?(?:\d+笔)?(\d+(?:\.\d+)?)\s*(万元|万|元)|"
    r"(\d+(?:\.\d+)?)\s*(万元|万|元)?资金的(?:法律)?追回"
)
PERSON = re.compile(
    r"(党组书记|党组副书记|党组成员|局长|副局长|主任|副主任|科长|副科长|调研员|"
    r"主席|副主席|常务副主席|处长|副处长)、?([\u4e00-\u9fa5]{2,3}?)(?=同志|不再|,|。|主持|出席|分管|$)"
)
DATE_SPAN = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日至(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日")
FEEDBACK = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日,?\s*([^,。]*?巡[察视]组)向(.+?)反馈")
TEAM = re.compile(
    r"((?:中共)?[\u4e00-\u9fa5]{0,8}?(?:区委|市委|县委|省委|党委|党组)?"
    r"第[一二三四五六七八九十]+巡[察视]组)"
)
UNIT = re.compile(r"巡[察视]组对(.+?)(?:开展|进行)了?(?:常规|专项)?巡[察视]")
CONTACT_PHONE = re.compile(r"(?:联系方式|联系电话|电话)\s*:\s*([\d\-— ]{7,20})")
CONTACT_ADDRESS = re.compile(r"(?:邮政地址|通讯地址|地址)\s*:\s*([^;。]+)")
CONTACT_EMAIL = re.compile(r"([\w.\-]+@[\w\-]+(?:\.[\w\-]+)+)")


class ParseWarning(str):
    """A warning about the parsed text.

    The string itself is the English text (what `flask notice parse`, its JSON and the audit
    log show); `code` and `params` let the web interface say it in the user's language
    (portal.notices.messages), so the parser needs no Flask.
    """

    code: str
    params: dict

    def __new__(cls, code: str, text: str, **params):
        warning = super().__new__(cls, text)
        warning.code, warning.params = code, params
        return warning

    def __getnewargs_ex__(self):  # copy, deepcopy (dataclasses.asdict) and pickle
        return (self.code, str(self)), dict(self.params)


@dataclass
class Measure:
    label: str  # as written, e.g. 一是 ("" when the problem is one paragraph)
    text: str
    deadline: date | None = None

    @property
    def ordinal(self) -> str:
        return self.label.removesuffix("是")


@dataclass
class Problem:
    number: str
    title: str
    text: str = ""
    measures: list[Measure] = field(default_factory=list)
    deadline: date | None = None
    planned_deadlines: list[str] = field(default_factory=list)
    amounts: list[Decimal] = field(default_factory=list)
    money_to_recover: Decimal | None = None
    persons: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None  # completed, partial, planned
    # Set by the office in the import preview, never by the parser.
    leader_id: int | None = None
    staff_id: int | None = None


@dataclass
class Category:
    label: str
    title: str
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ParsedNotice:
    title: str = ""
    inspected_unit: str = ""
    inspection_team: str = ""
    inspection_start: date | None = None
    inspection_end: date | None = None
    feedback_date: date | None = None
    problems_stated: int | None = None
    categories: list[Category] = field(default_factory=list)
    report_text: str = ""
    contact_phone: str = ""
    contact_address: str = ""
    contact_email: str = ""
    summary: dict[str, int] = field(default_factory=dict)
    warnings: list[ParseWarning] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        return [p for c in self.categories for p in c.problems]

    def to_json(self) -> dict:
        """The parsed tree in the documented JSON schema (see the README)."""

        def iso(d):
            return d.isoformat() if d else None

        return {
            "title": self.title,
            "inspected_unit": self.inspected_unit,
            "inspection_team": self.inspection_team,
            "inspection_start": iso(self.inspection_start),
            "inspection_end": iso(self.inspection_end),
            "feedback_date": iso(self.feedback_date),
            "problems_stated": self.problems_stated,
            "contact": {
                "phone": self.contact_phone,
                "address": self.contact_address,
                "email": self.contact_email,
            },
            "summary": self.summary,
            "categories": [
                {
                    "label": c.label,
                    "title": c.title,
                    "problems": [
                        {
                            "number": int(p.number) if p.number.isdigit() else p.number,
                            "title": p.title,
                            "measure_labels": [m.ordinal for m in p.measures if m.label],
                            "measures": [
                                {"label": m.label, "text": m.text, "deadline": iso(m.deadline)}
                                for m in p.measures
                            ],
                            "deadline": iso(p.deadline),
                            "planned_deadlines": p.planned_deadlines,
                            "amounts": [str(a) for a in p.amounts],
                            "money_to_recover": str(p.money_to_recover) if p.money_to_recover else None,
                            "persons": [{"title": t, "name": n} for t, n in p.persons],
                            "status": p.status,
                        }
                        for p in c.problems
                    ],
                }
                for c in self.categories
            ],
            "warnings": [str(w) for w in self.warnings],
        }


def cn_number(text: str) -> int:
    """一 → 1, 十二 → 12, 二十 → 20 (the numbers notices use)."""
    values = {c: i + 1 for i, c in enumerate(CN_DIGITS)}
    if text == "十":
        return 10
    if "十" in text:
        tens, _sep, ones = text.partition("十")
        return (values.get(tens, 1)) * 10 + (values.get(ones, 0) if ones else 0)
    return values.get(text, 0)


def month_end(year: int, month: int) -> date | None:
    if not (1 <= month <= 12 and 1900 < year < 2200):
        return None
    return date(year, month, calendar.monthrange(year, month)[1])


def to_yuan(number: str, unit: str | None) -> Decimal:
    value = Decimal(number)
    value = value * 10000 if unit and unit.startswith("万") else value
    return value.quantize(Decimal("0.01"))


# --- the parse --------------------------------------------------------------------------------


def parse(text: str) -> ParsedNotice:
    """Parse notice text. Never raises: problems become warnings."""
    notice = ParsedNotice()
    try:
        _parse(text, notice)
    except Exception as exc:  # noqa: BLE001 - a parser bug must not lose the user's upload
        notice.warnings.append(
            ParseWarning(
                "internal_error", f"internal parser error, result incomplete: {exc!r}", error=repr(exc)
            )
        )
    return notice


def _lines(text: str) -> list[str]:
    lines = [normalise(raw) for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [line for line in lines if line]


def _parse(text: str, notice: ParsedNotice) -> None:
    lines = _lines(text)
    start = _find_title(lines, notice)
    sections = _split_sections(lines[start:], notice)
    body = " ".join(lines[start:])
    _metadata(body, notice)
    narrative = []
    for heading, content in sections:
        if _is_problem_section(content):
            _parse_problem_section(content, notice)
        else:
            narrative.append("\n".join(([heading] if heading else []) + content))
    notice.report_text = "\n\n".join(narrative)
    _carry_years(notice)
    _check(notice)


def _find_title(lines: list[str], notice: ParsedNotice) -> int:
    for i, line in enumerate(lines[:40]):
        if CLUTTER.match(line):
            continue
        match = TITLE.search(line)
        if match and len(line) < 80:
            notice.title = line
            return i + 1
    for i, line in enumerate(lines):
        if not CLUTTER.match(line):
            notice.title = line if len(line) < 80 else ""
            notice.warnings.append(
                ParseWarning("no_title", "no notice title (…整改情况的通报) found; the first line is used")
            )
            return i + 1 if notice.title else i
    return len(lines)


def _split_sections(lines: list[str], notice: ParsedNotice) -> list[tuple[str, list[str]]]:
    sections: list[tuple[str, list[str]]] = [("", [])]
    for line in lines:
        match = SECTION.match(line)
        if match and len(line) < 60:
            sections.append((line, []))
        else:
            sections[-1][1].append(line)
    return sections


def _is_problem_section(content: list[str]) -> bool:
    markers = sum(1 for line in content if PROBLEM.match(line) or PROBLEM_CN.match(line))
    topical = sum(1 for line in content if CATEGORY.match(line) and "问题" in line[:40])
    return markers > 0 or topical > 1


def _heading_title(rest: str) -> str:
    quoted = QUOTED.search(rest)
    if quoted and ("问题" in rest or "关于" in rest or "对于" in rest):
        return quoted.group(1)
    return rest.rstrip("。").strip()


def _parse_problem_section(content: list[str], notice: ParsedNotice) -> None:
    has_numbered = any(PROBLEM.match(line) or PROBLEM_CN.match(line) for line in content)
    category: Category | None = None
    problem: Problem | None = None
    parent_number = ""
    for line in content:
        cat = CATEGORY.match(line)
        num = PROBLEM.match(line) or PROBLEM_CN.match(line)
        sub = SUB_PROBLEM.match(line)
        if cat and has_numbered and len(line) < 120:
            category = Category(cat.group(1), _heading_title(cat.group(2)))
            notice.categories.append(category)
            problem = None
        elif (num and len(line) < 120) or (cat and not has_numbered and len(line) < 120):
            if category is None:
                category = Category("", "")
                notice.categories.append(category)
            if num:
                number = num.group(1)
                number = str(cn_number(number)) if not number.isdigit() else number
                rest = num.group(2)
            else:
                number, rest = str(cn_number(cat.group(1))), cat.group(2)
            problem = Problem(number, _heading_title(rest))
            parent_number = number
            category.problems.append(problem)
        elif sub and problem is not None and len(line) < 120:
            problem = Problem(f"{parent_number}({sub.group(1)})", _heading_title(sub.group(2)))
            category.problems.append(problem)
        elif problem is not None:
            problem.text = (problem.text + "\n" + line).strip()
        elif category is not None:
            notice.warnings.append(
                ParseWarning("outside_problem", f"text outside any problem: {line[:30]}…", text=line[:30])
            )
    for cat in notice.categories:
        for p in cat.problems:
            _fill_problem(p, notice)


def _fill_problem(problem: Problem, notice: ParsedNotice) -> None:
    text = re.sub(r"^(整改(?:落实)?情况)\s*:", "", problem.text.strip())
    parts = [(m.start(), m.group(1)) for m in MEASURE.finditer(text)]
    if parts:
        preface = text[: parts[0][0]].strip()
        for i, (pos, ordinal) in enumerate(parts):
            end = parts[i + 1][0] if i + 1 < len(parts) else len(text)
            body = text[pos:end].strip()
            body = re.sub(rf"^{ordinal}是\s*[,:]?", "", body).strip()
            problem.measures.append(Measure(f"{ordinal}是", body))
        if preface:
            problem.measures[0].text = (preface + " " + problem.measures[0].text).strip()
        ordinals = [cn_number(m.ordinal) for m in problem.measures]
        expected = list(range(1, len(ordinals) + 1))
        if ordinals != expected:
            labels = "、".join(m.ordinal for m in problem.measures)
            notice.warnings.append(
                ParseWarning(
                    "measure_labels",
                    f"problem {problem.number} “{problem.title}”: measure labels {labels} are not "
                    f"consecutive (kept as written)",
                    number=problem.number,
                    title=problem.title,
                    labels=labels,
                )
            )
    elif text:
        problem.measures.append(Measure("", text))
    last_year = None
    for measure in problem.measures:
        measure.deadline, last_year = _planned(measure.text, last_year, problem)
    dated = [m.deadline for m in problem.measures if m.deadline]
    problem.deadline = max(dated) if dated else None
    problem.amounts = [to_yuan(n, u) for n, u in AMOUNT.findall(text)]
    recovered = [
        to_yuan(m.group(1) or m.group(3), m.group(2) or m.group(4) or "元") for m in RECOVER.finditer(text)
    ]
    problem.money_to_recover = sum(recovered, Decimal(0)) if recovered else None
    problem.persons = list(dict.fromkeys(PERSON.findall(text)))
    status = STATUS.search(text)
    if status:
        problem.status = (
            "partial"
            if status.group(1) == "阶段性完成"
            else ("completed" if "完成" in status.group(1) and "未" not in status.group(1) else "planned")
        )
    elif problem.planned_deadlines:
        problem.status = "planned"
    elif re.search(r"(目前)?已(全部)?完成", text):
        problem.status = "completed"


def _planned(text: str, last_year: int | None, problem: Problem) -> tuple[date | None, int | None]:
    """The latest planned year-month in `text`, as the last day of that month.

    A year-month is planned when its sentence says so before it (计划、预计、拟、力争…) or when
    it ends in 前/底 (2020年12月前); past events (于2019年10月份制定印发) are not deadlines.
    A month without a year takes the last year mentioned (拟2020年5月份发布,并于7月份完成).
    """
    latest = None
    for match in YEAR_MONTH.finditer(text):
        year_text, month, _fen, before = match.groups()
        if text[match.end() : match.end() + 1] == "日" or text[match.end() : match.end() + 1].isdigit():
            last_year = int(year_text) if year_text else last_year
            continue
        if year_text:
            last_year = int(year_text)
        sentence_start = max(text.rfind("。", 0, match.start()), text.rfind(";", 0, match.start()))
        cue = PLANNED_CUE.search(text, sentence_start + 1, match.start())
        if last_year is None or not (cue or before):
            continue
        end = month_end(last_year, int(month))
        if end is None:
            continue
        written = match.group(0) if year_text else f"{last_year}年{match.group(0)}"
        if written not in problem.planned_deadlines:
            problem.planned_deadlines.append(written)
        latest = max(latest, end) if latest else end
    return latest, last_year


def _metadata(body: str, notice: ParsedNotice) -> None:
    span = DATE_SPAN.search(body)
    if span:
        y1, m1, d1, y2, m2, d2 = span.groups()
        notice.inspection_start = _date(int(y1), int(m1), int(d1))
        notice.inspection_end = _date(int(y2 or y1), int(m2), int(d2))
    feedback = FEEDBACK.search(body)
    if feedback:
        year = (
            int(feedback.group(1))
            if feedback.group(1)
            else (notice.inspection_end.year if notice.inspection_end else None)
        )
        if year:
            notice.feedback_date = _date(year, int(feedback.group(2)), int(feedback.group(3)))
    team = TEAM.search(body)
    notice.inspection_team = team.group(1) if team else ""
    unit = UNIT.search(body)
    notice.inspected_unit = unit.group(1).strip() if unit else ""
    stated = STATED.search(body)
    notice.problems_stated = int(stated.group(1)) if stated else None
    summary = SUMMARY.search(body)
    if summary:
        total, done, partial = summary.groups()
        notice.summary = {
            "total": int(total),
            "completed": int(done),
            "partial": int(partial) if partial else 0,
        }
        notice.problems_stated = notice.problems_stated or int(total)
    tail = body[-400:]
    phone = CONTACT_PHONE.search(tail)
    address = CONTACT_ADDRESS.search(tail)
    email = CONTACT_EMAIL.search(tail)
    notice.contact_phone = phone.group(1).strip() if phone else ""
    notice.contact_address = address.group(1).strip() if address else ""
    notice.contact_email = email.group(1) if email else ""


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _carry_years(notice: ParsedNotice) -> None:
    if notice.feedback_date and notice.inspection_start and notice.feedback_date < notice.inspection_start:
        notice.feedback_date = notice.feedback_date.replace(year=notice.feedback_date.year + 1)


def _check(notice: ParsedNotice) -> None:
    found = len(notice.problems)
    if not found:
        notice.warnings.append(
            ParseWarning("no_problems", "no problems found: is this a rectification notice?")
        )
    if notice.problems_stated is not None and notice.problems_stated != found:
        notice.warnings.append(
            ParseWarning(
                "problem_count",
                f"the text states {notice.problems_stated} problems but {found} were found",
                stated=notice.problems_stated,
                found=found,
            )
        )
    if notice.summary:
        completed = sum(1 for p in notice.problems if p.status == "completed")
        partial = sum(1 for p in notice.problems if p.status == "partial")
        if (completed, partial) != (notice.summary["completed"], notice.summary["partial"]):
            notice.warnings.append(
                ParseWarning(
                    "status_count",
                    f"the text counts {notice.summary['completed']} completed and "
                    f"{notice.summary['partial']} partly completed problems; the problems' own "
                    f"status lines give {completed} and {partial}",
                    stated_completed=notice.summary["completed"],
                    stated_partial=notice.summary["partial"],
                    completed=completed,
                    partial=partial,
                )
            )


def as_dict(notice: ParsedNotice) -> dict:
    return asdict(notice)
