"""Parse a published rectification notice (整改情况通报) into inspection, categories, problems
and measures. Pure Python: no Flask, no database.

It never raises on text: whatever it cannot place becomes a warning (a `ParseWarning`: its
English text, plus a code and parameters the interface translates). Sections whose (一) and
一是 are organisational steps (一、组织领导…, 三、坚持常抓不懈…) go to the report text, not to
the problem list.

The genre, as the corpus in tests/notices/fixtures/corpus/ shows it:

- a section (一、) is organisational or holds the problems; its heading says which
  (组织/领导/主体责任… or 问题), and a heading that says neither is judged by what it holds
  (numbered problems, sub-problems, 整改情况: lines, status headings);
- problems sit at three depths: category (一) → problem 1. → sub-problem (1), or problem (一)
  when no 1. level exists, or a flat list of 1. under the section; a subject section
  (一、财政部门预算执行问题的整改情况) is itself the category of what it holds;
- a status heading ((一)已整改完成的问题) is a category whose status its problems take, a status
  line (整改状态:阶段性完成) gives its problem's status;
- stated totals (四方面13类共27项问题, 33个具体问题,已完成整改30个) become `summary` and are
  compared with what was found;
- dates whose digits ran together in the source (2023814日) are reported, never guessed;
- page chrome (breadcrumbs, 索引号 and 发布时间 lines, 浏览量, the title repeated) is dropped;
- a heading that ends the text is taken as cut off and left out.

Every regular expression is linear in the length of its line or bounded in what it scans (the
parse of 20 KB stays far below 100 ms: bench/notice_parse.py).
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
# A numeral inside running text is bounded: a run of numerals must not make a search quadratic.
CN_NUM = f"[{CN_DIGITS}]{{1,4}}"
SECTION = re.compile(rf"^({CN})、(.+)$")
CATEGORY = re.compile(rf"^\(({CN})\)(.+)$")
# 1.标题 / 1、标题 / 2.2019年度…; not a decimal number (1.05亿元, 2.5%).
PROBLEM = re.compile(r"^(\d{1,3})[.、](?!\d+(?:\.\d|%|万|亿|元|倍|个|项|人|次|笔|$))\s*(.+)$")
PROBLEM_CN = re.compile(rf"^反馈问题({CN})\s*:\s*(.+)$")
SUB_PROBLEM = re.compile(r"^\((\d{1,2})\)(.+)$")
MEASURE = re.compile(rf"(?:^|(?<=[。;!?\n:]))\s{{0,4}}({CN_NUM})是")
# What opens the measures of a problem (整改情况:一是…), at the start of any of its lines.
LEAD = re.compile(r"(?m)^(?:整改(?:落实|进展)?情况|整改措施|整改举措|落实情况)\s*:\s*")
QUOTED = re.compile(r"[“\"]\s*(.+?)\s*[”\"]")
QUOTED_PROBLEM = re.compile(r"^(?:关于|对于)|[”\"]\s*(?:方面)?(?:的)?问题")
# The label of a category heading ((一)反馈问题:…), not part of its title.
LABEL = re.compile(rf"^(?:反馈问题|存在问题|问题)(?:{CN})?\s*:\s*")
# The full stop that ends an inline title ((一)加强组织领导。正文…); not one inside quotes.
INLINE_STOP = re.compile(r"。(?![”’)》\"])")
TITLE = re.compile(r"整改(?:工作)?(?:进展|落实)?情况的?(?:通报|报告|公告|公示)$")
CLUTTER = re.compile(
    r"^(?:\d+$|[\-•·*●▪■]+\s*|https?://\S+$|(?:索引号|发布日期|信息来源|来源|浏览量|"
    r"浏览次数|点击数|字号|朗读|分享|打印|关闭|首页|当前位置|发布机构|主题分类)\b.*|.*>.*>.*)"
)
# Page chrome anywhere in the text: metadata and tool lines, page numbers, bullets, links,
# 【打印】【关闭】, "source 2024-07-12" lines. Breadcrumbs are found by `_breadcrumb`.
CHROME = re.compile(
    r"^(?:(?:索引号|发布日期|发布时间|发文日期|信息来源|来源|浏览量|浏览次数|访问量|阅读量|阅读次数|"
    r"点击数|点击量|字号|字体|朗读|分享|打印|关闭|首页|当前位置|您当前所在位置|您的位置|当前所在位置|"
    r"发布机构|主题分类|设为首页|加入收藏|关怀版|无障碍|列表详情|责任编辑|扫一扫|上一篇|下一篇)"
    r"(?=$|[\s:|【\[>])"
    r"|[\-—–\s]*(?:第\s*\d{1,3}\s*页(?:\s*[/,]?\s*共\s*\d{1,3}\s*页)?|\d{1,3})[\-—–\s]*$"
    r"|[\-•·*●▪■]+$"
    r"|https?://\S+$"
    r"|【[^】]{1,6}】(?:\s*【[^】]{1,6}】)*$"
    r"|\S{1,20}\s+\d{4}-\d{1,2}-\d{1,2}(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$)"
)
BREADCRUMB = re.compile(r"\s*(?:->|>|»|›)\s*")
BREADCRUMB_START = ("首页", "当前位置", "您当前所在位置", "您的位置", "当前所在位置", "位置")
# A section heading (一、…) that says it is organisational, and one that says it holds problems.
ORGANISATIONAL = re.compile(
    r"组织|领导|主体责任|第一责任|责任担当|政治责任|政治站位|推进.{0,4}整改工作|整改工作.{0,6}(?:情况|部署)|"
    r"总体|常抓不懈|巩固|长效|下一步|工作打算|举一反三"
)
SECTION_PROBLEMS = re.compile(r"问题(?!导向)")
PROBLEM_CUE = re.compile(r"问题(?!导向)|方面")
# The words of a generic problem-section heading (二、巡察反馈问题整改进展情况): a heading made
# of these alone names no subject, so its problems belong to no category of its own.
GENERIC_WORDS = re.compile(
    r"巡察|巡视|反馈|发现|指出|意见|具体|问题|清单|整改|落实|进展|情况|主要|成效|推进|工作|对照|扎实|"
    r"措施|关于|对于|集中|逐项|逐条|有关|及|和|的|[,、\s]"
)
# Status: a line (整改状态:阶段性完成), a heading ((一)已整改完成的问题), a title's suffix
# (1.…问题(已完成)).
STATUS = re.compile(
    r"整改(?:状态|进度|进展)\s*:\s*(阶段性完成|基本完成|部分完成|已完成(?:整改)?|已整改(?:完成|到位)?|完成|"
    r"正在整改|整改中|持续整改|长期坚持|未完成|持续推进)"
)
STATUS_LINE = re.compile(rf"^(?:{STATUS.pattern})\s*[。.;]?$")
STATUS_HEADING = re.compile(
    r"^(?:关于)?(已(?:经)?(?:整改完成|完成整改|整改到位|整改|完成)|整改完成|基本完成(?:整改)?|"
    r"阶段性完成(?:整改)?|部分完成(?:整改)?|正在(?:推进)?整改|持续(?:推进)?整改|需(?:要)?长期(?:坚持)?整改|"
    r"长期坚持(?:整改)?|尚未完成(?:整改)?|未完成(?:整改)?)(?:的)?(?:问题|事项)"
    r"(?:\(\s*\d+\s*(?:个|项|条)\s*\))?[。:]?$"
)
HEADING_STATUS = re.compile(
    r"[(【]\s*(已完成(?:整改)?|已整改(?:完成|到位)?|整改完成|阶段性完成|基本完成|部分完成|正在整改|"
    r"持续整改|长期坚持|未完成)\s*[)】]\s*。?$"
)
# Stated totals: 四方面13类共27项问题, 3个方面11类问题30项问题, 4个方面、29个单位(部门)共计50项
# 具体问题, 33个具体问题, 共反映1263个问题. A bare "N个问题" counts only after a cue (反馈的,
# 共, 指出…): "经责审计提出的21个问题" is another audit's count, not the notice's.
TOTAL = re.compile(
    r"(?:(\d{1,3}|" + CN_NUM + r")个?方面(?:的)?[、,]?)?"
    r"(?:(\d{1,4})大?类(?:问题)?[、,]?)?"
    r"(?:(\d{1,4})个(?:单位|部门)(?:\([^()]{0,10}\))?[、,]?)?"
    r"(共计?|总计|合计|累计)?"
    r"(\d{1,5})\s*(?:项|个|条)(?:具体)?问题"
)
TOTAL_CUE = re.compile(r"反馈|共|指出|反映|发现|查出|梳理|涉及")
DONE_COUNT = re.compile(
    r"(?:已整改(?:完成|到位)?|已(?:经)?完成整改|整改完成|已完成|已办结|已销号)(?:的)?\s*(\d{1,5})\s*(?:项|个|条)"
)
PARTIAL_COUNT = re.compile(
    r"(?:阶段性完成|基本完成|部分完成|部分整改)(?:整改)?(?:的)?\s*(\d{1,5})\s*(?:项|个|条)"
)
ONGOING_COUNT = re.compile(
    r"(?:正在整改|正在推进|整改中|持续整改|需长期坚持|未完成整改|尚未完成|未完成)(?:整改)?(?:的)?\s*(\d{1,5})\s*"
    r"(?:项|个|条)"
)
YEAR_MONTH = re.compile(r"(?:(\d{4})年)?(\d{1,2})月(份)?(底|前|以前|之前)?")
PLANNED_CUE = re.compile(r"计划|预计|拟|力争|争取|将于|将在|预期")
# Money in the text; thresholds ("5万元(含)以上的项目") are rules, not amounts.
# A number starts where its digits start ((?<![\d.])): a long run of digits is tried once, not
# from each of its digits (which is quadratic).
AMOUNT = re.compile(
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万元|万(?!元)|亿元|亿(?!元)|元)(?!\s*(?:\(含\))?\s*(?:以上|以下))"
)
RECOVER = re.compile(
    r"追回(?:资金)?(?:\d+笔)?(\d+(?:\.\d+)?)\s*(万元|万|元)|"
    r"(?<![\d.])(\d+(?:\.\d+)?)\s*(万元|万|元)?资金的(?:法律)?追回"
)
PERSON = re.compile(
    r"(党组书记|党组副书记|党组成员|局长|副局长|主任|副主任|科长|副科长|调研员|"
    r"主席|副主席|常务副主席|处长|副处长)、?([\u4e00-\u9fa5]{2,3}?)(?=同志|不再|,|。|主持|出席|分管|$)"
)
DATE_FULL = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
DATE_SPAN = re.compile(
    r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日\s*(?:至|到|[-—–~])\s*(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日"
)
# 2024年12月30日,市委巡察组向…反馈了巡察意见 · 并于2020年9月29日反馈了巡察意见 · 12月18日,向学校
# 党委反馈了巡察意见; not 《…关于巡察反馈意见的整改方案》.
FEEDBACK = re.compile(
    r"(?:(\d{4})年)?(\d{1,2})月(\d{1,2})日[^。\d\n]{0,60}?(?<!巡察)(?<!巡视)(?<!审计)反馈(?:了)?"
    r"(?:巡[察视]|审计)?(?:意见|情况|问题)"
)
# Digits that ran together in the source: 2023814日, 20231227日, 2023814日至1031, 1227县委….
RUN_TOGETHER = re.compile(
    r"(?<![\d.])\d{5,8}日(?:至\d{3,8}日?)?|(?<![\d.年月日])\d{3,4}(?=[省市县区]委|巡[察视])"
)
# 区委第二巡察组, 中央第四巡视组, 十二届南通市委第八轮巡察二组, 市委巡察二组, 市县联动巡察组.
TEAM = re.compile(
    "((?:" + CN_NUM + "届)?"
    r"(?:(?:中共)?[\u4e00-\u9fa5]{0,6}?(?:省委|市委|县委|区委|州委|盟委|旗委|党委|党组|市县|县市|县区|区县)|中央)?"
    "(?:第" + CN_NUM + "轮)?"
    "(?:第" + CN_NUM + "巡[察视]组|巡[察视]" + CN_NUM + r"组|联动巡[察视]组|巡[察视]组(?=对)))"
)
UNIT = re.compile(
    "巡[察视](?:" + CN_NUM + ")?组对([^。,;\n]{2,40}?)(?:开展|进行)了?(?:为期[^。,;\n]{1,8}?的)?"
    "(?:常规|专项|政治|机动|提级)?巡[察视]"
)
CONTACT_PHONE = re.compile(r"(?:联系方式|联系电话|电话)\s*:\s*([\d\-— ]{7,20})")
CONTACT_ADDRESS = re.compile(r"(?:邮政地址|通讯地址|地址)\s*:\s*([^;。\n]+)")
CONTACT_EMAIL = re.compile(r"(?<![\w.\-])([\w.\-]+@[\w\-]+(?:\.[\w\-]+)+)")


class ParseWarning(str):
    """A warning about the parsed text.

    The string itself is the English text (what `flask notice parse`, its JSON and the audit
    log show); `code` and `params` let the web interface say it in the user's language
    (portal.notices.messages), so the parser needs no Flask.
    """

    code: str
    params: dict

    def __new__(cls, code: str, text: str, /, **params):
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
    sub_problem: str | None = None  # the number of the sub-problem (1)(2) it is written under

    @property
    def ordinal(self) -> str:
        return self.label.removesuffix("是")


@dataclass
class SubProblem:
    """A sub-problem (1)(2) of a problem: kept under it, its measures counted among the problem's."""

    number: str
    title: str
    heading: str = ""  # as written after the (1) marker
    text: str = ""
    measures: list[Measure] = field(default_factory=list)
    status: str | None = None


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
    status: str | None = None  # completed, partial, in_progress, planned
    # Set by the office in the import preview, never by the parser.
    leader_id: int | None = None
    staff_id: int | None = None
    heading: str = ""  # as written after the 1. / (一) marker
    # Its sub-problems (1)(2); `measures` holds theirs too (each with its `sub_problem`) and
    # `text` their lines, so that an item imported from the problem misses nothing.
    sub_problems: list[SubProblem] = field(default_factory=list)
    own_text: str = ""  # the problem's text before its first sub-problem


@dataclass
class Category:
    label: str
    title: str
    problems: list[Problem] = field(default_factory=list)
    heading: str = ""  # as written after the (一) / 一、 marker
    status: str | None = None  # a status heading's: (一)已整改完成的问题 → completed
    text: str = ""  # its lines outside any problem
    level: str = ""  # "category" for (一), "section" for a subject section 一、, "" for none


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
    amounts: list[Decimal] = field(default_factory=list)  # every amount in the text, in yuan
    uncertain_dates: list[str] = field(default_factory=list)  # as written: 2023814日
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
            "amounts": [str(a) for a in self.amounts],
            "uncertain_dates": self.uncertain_dates,
            "categories": [
                {
                    "label": c.label,
                    "title": c.title,
                    "heading": c.heading,
                    "status": c.status,
                    "problems": [
                        {
                            "number": _number(p.number),
                            "title": p.title,
                            "heading": p.heading,
                            "measure_labels": [m.ordinal for m in p.measures if m.label],
                            "measures": [_measure_json(m) for m in p.measures],
                            "deadline": iso(p.deadline),
                            "planned_deadlines": p.planned_deadlines,
                            "amounts": [str(a) for a in p.amounts],
                            "money_to_recover": str(p.money_to_recover) if p.money_to_recover else None,
                            "persons": [{"title": t, "name": n} for t, n in p.persons],
                            "status": p.status,
                            "sub_problems": [
                                {
                                    "number": _number(s.number),
                                    "title": s.title,
                                    "heading": s.heading,
                                    "measure_labels": [m.ordinal for m in s.measures if m.label],
                                    "measures": [_measure_json(m) for m in s.measures],
                                    "status": s.status,
                                }
                                for s in p.sub_problems
                            ],
                        }
                        for p in c.problems
                    ],
                }
                for c in self.categories
            ],
            "warnings": [str(w) for w in self.warnings],
        }


def _number(number: str) -> int | str:
    return int(number) if number.isdigit() else number


def _measure_json(m: Measure) -> dict:
    return {
        "label": m.label,
        "text": m.text,
        "deadline": m.deadline.isoformat() if m.deadline else None,
        "sub_problem": _number(m.sub_problem) if m.sub_problem else None,
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
    if unit and unit.startswith("亿"):
        value = value * 100000000
    elif unit and unit.startswith("万"):
        value = value * 10000
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
    lines = _cut_heading(_drop_chrome(lines[start:], notice.title), notice)
    _metadata("\n".join(lines), notice)
    narrative: list[str] = []
    for label, heading, content in _split_sections(lines):
        kept = _problem_lines(label, heading, content, narrative)
        if kept is not None:
            _parse_problem_section(label, heading, kept, notice, narrative)
    notice.report_text = "\n\n".join(narrative)
    for category in notice.categories:
        for problem in category.problems:
            _fill_problem(problem, category, notice)
    _carry_years(notice)
    _check(notice)


def _chrome(line: str) -> bool:
    """Page chrome: metadata and tool lines, page numbers, links, breadcrumbs."""
    if CHROME.match(line):
        return True
    if len(line) > 120 or not BREADCRUMB.search(line):
        return False
    parts = BREADCRUMB.split(line)
    if not parts[0] or parts[0].startswith(BREADCRUMB_START):
        return True
    return len(parts) >= 3 and all(len(p) <= 20 for p in parts)


def _title_like(line: str) -> bool:
    return (
        len(line) < 80
        and "。" not in line
        and not line.endswith(":")
        and not DATE_FULL.match(line)
        and not line.startswith(("根据", "按照", "为", "受"))
        and not any(p.match(line) for p in (SECTION, CATEGORY, PROBLEM, PROBLEM_CN, SUB_PROBLEM))
    )


def _find_title(lines: list[str], notice: ParsedNotice) -> int:
    for i, line in enumerate(lines[:40]):
        if CLUTTER.match(line) or _chrome(line):
            continue
        if len(line) < 80 and "。" not in line and TITLE.search(line):
            notice.title = line
            return i + 1
    for i, line in enumerate(lines):
        if not (CLUTTER.match(line) or _chrome(line)):
            notice.title = line if _title_like(line) else ""
            notice.warnings.append(
                ParseWarning("no_title", "no notice title (…整改情况的通报) found; the first line is used")
            )
            return i + 1 if notice.title else i
    return len(lines)


def _drop_chrome(lines: list[str], title: str) -> list[str]:
    """The lines without page chrome and without the title repeated."""
    return [line for line in lines if not (line == title or _chrome(line))]


def _split_inline(rest: str, limit: int = 120) -> tuple[str, str] | None:
    """A heading's text and what follows it on the same line, or None when it is no heading.

    `(一)加强组织领导。正文…` has an inline title (up to its first 。, within 80 characters);
    `(一)学习在先,反思紧随,整改为重` is a bare heading (shorter than `limit`); a long line
    without an early 。 is text.
    """
    rest = rest.strip()
    if not rest:
        return None
    stop = INLINE_STOP.search(rest, 0, 80)
    if stop and rest[stop.end() :].strip():
        return rest[: stop.end()], rest[stop.end() :].strip()
    return (rest, "") if len(rest) < limit else None


def _heading(pattern: re.Pattern, line: str) -> tuple[str, str, str] | None:
    """(marker, heading, inline rest) when `line` is a heading of `pattern`'s kind."""
    match = pattern.match(line)
    if not match:
        return None
    split = _split_inline(match.group(2), 80 if pattern is SECTION else 120)
    return (match.group(1), *split) if split else None


def _numbered(line: str) -> tuple[str, str, str] | None:
    """A problem heading: 1. / 1、 / 反馈问题一: (number, heading, inline rest)."""
    found = _heading(PROBLEM, line)
    if found is None:
        found = _heading(PROBLEM_CN, line)
        if found is not None:
            found = (str(cn_number(found[0])), found[1], found[2])
    return found


def _cut_heading(lines: list[str], notice: ParsedNotice) -> list[str]:
    """Drop a bare heading that ends the text: the text was cut off there (or right after it)."""
    if not lines:
        return lines
    last = lines[-1]
    for pattern in (SECTION, CATEGORY, SUB_PROBLEM, PROBLEM, PROBLEM_CN):
        found = _heading(pattern, last)
        if found is not None and not found[2]:
            notice.warnings.append(
                ParseWarning(
                    "cut_heading",
                    f"the text ends with the heading “{last[:40]}”: taken as cut off and left out",
                    heading=last[:40],
                )
            )
            return lines[:-1]
    return lines


def _split_sections(lines: list[str]) -> list[tuple[str, str, list[str]]]:
    """(label, heading, content) for the opening (no label) and each section 一、二、…"""
    sections: list[tuple[str, str, list[str]]] = [("", "", [])]
    for line in lines:
        found = _heading(SECTION, line)
        if found is not None:
            label, heading, rest = found
            sections.append((label, heading, [rest] if rest else []))
        else:
            sections[-1][2].append(line)
    return sections


def _problem_heading(heading: str) -> bool:
    """Does a (一) heading name problems (a status group, 反馈问题:…, …方面的问题)?"""
    return bool(STATUS_HEADING.match(heading) or LABEL.match(heading) or PROBLEM_CUE.search(heading))


def _evidence(lines: list[str], strong: bool = False) -> bool:
    """Do these lines hold problems: 整改情况:, 反馈问题一:, a status line or heading, a
    (一)反馈问题: heading, and unless `strong` is asked for, a bare numbered heading (1. or (1))
    or a (一) heading that names problems (…方面的问题)?"""
    for line in lines:
        if PROBLEM_CN.match(line) or LEAD.match(line) or STATUS.search(line[:40]):
            return True
        found = _heading(CATEGORY, line)
        if found is not None and (STATUS_HEADING.match(found[1]) or LABEL.match(found[1])):
            return True
        if strong:
            continue
        if found is not None and PROBLEM_CUE.search(found[1]):
            return True
        for pattern in (PROBLEM, SUB_PROBLEM):
            found = _heading(pattern, line)
            if found is not None and not found[2]:
                return True
    return False


def _problem_lines(label: str, heading: str, content: list[str], narrative: list[str]) -> list[str] | None:
    """The lines of a section that hold problems (None: none); the others go to `narrative`.

    A heading that names problems (问题) makes the whole section a problem section, one that
    names the organisation of the rectification (组织领导、主体责任…) a narrative one unless its
    lines have strong marks of problems (整改情况:, status lines). Any other section, and the
    opening, are judged block by block: a (一) block holds problems when its heading names them
    or its lines have the marks of problems (`_evidence`).
    """
    heading_line = [f"{label}、{heading}"] if heading else []
    if heading and SECTION_PROBLEMS.search(heading):
        return content
    if heading and ORGANISATIONAL.search(heading) and not _evidence(content, strong=True):
        narrative.append("\n".join(heading_line + content))
        return None
    blocks: list[list[str]] = [[]]
    for line in content:
        if CATEGORY.match(line):
            blocks.append([line])
        else:
            blocks[-1].append(line)
    kept: list[str] = []
    other: list[str] = []
    (kept if _evidence(blocks[0]) else other).extend(blocks[0])
    for block in blocks[1:]:
        found = _heading(CATEGORY, block[0])
        problems = (found is not None and _problem_heading(found[1])) or _evidence(block[1:])
        (kept if problems else other).extend(block)
    if not kept:
        if heading_line or content:
            narrative.append("\n".join(heading_line + content))
        return None
    if other:
        narrative.append("\n".join(other))
    return kept


def _generic(heading: str) -> bool:
    """Does a section heading name no subject (二、巡察反馈问题整改进展情况)?"""
    return len(GENERIC_WORDS.sub("", heading)) <= 2


def _heading_title(rest: str) -> str:
    rest = LABEL.sub("", HEADING_STATUS.sub("", rest))
    quoted = QUOTED.search(rest)
    if quoted and QUOTED_PROBLEM.search(rest):
        return quoted.group(1)
    return rest.rstrip("。:").strip()


def _status_value(word: str) -> str:
    if "阶段性" in word or "基本完成" in word or "部分" in word:
        return "partial"
    if word == "持续推进" or word.startswith(("未", "尚未")):
        return "planned"
    if "正在" in word or "整改中" in word or "持续" in word or "长期" in word:
        return "in_progress"
    return "completed"


def _heading_status(heading: str) -> str | None:
    """The status a heading states: (一)已整改完成的问题, 1.…问题(已完成)."""
    match = STATUS_HEADING.match(heading) or HEADING_STATUS.search(heading)
    return _status_value(match.group(1)) if match else None


def _join(text: str, line: str) -> str:
    return f"{text}\n{line}" if text else line


def _parse_problem_section(
    label: str, heading: str, lines: list[str], notice: ParsedNotice, narrative: list[str]
) -> None:
    """Categories, problems and sub-problems of one section.

    With numbered problems (1.) in the section, (一) headings are categories; without, they are
    the problems themselves, except status headings, which stay categories. (1)(2) are the
    sub-problems of the problem above them (or problems themselves where no problem is above).
    A subject section (一、财政部门预算执行问题的整改情况) is the category of its problems unless
    it has categories of its own.
    """
    numbered = any(_numbered(line) for line in lines)
    has_categories = any(_heading(CATEGORY, line) for line in lines)
    category: Category | None = None
    if heading and lines and not _generic(heading) and not (has_categories and numbered):
        category = Category(
            label, _heading_title(heading), heading=heading, status=_heading_status(heading), level="section"
        )
        notice.categories.append(category)
    problem: Problem | None = None
    sub: SubProblem | None = None
    flat = False  # the problems themselves are numbered (1)(2): their siblings are no sub-problems
    lead: list[str] = []
    for line in lines:
        found = _heading(CATEGORY, line)
        num = _numbered(line)
        part = _heading(SUB_PROBLEM, line) if num is None else None
        if found is not None:
            cat_label, head, rest = found
            status = _heading_status(head)
            if numbered or status:
                category = Category(
                    cat_label, _heading_title(head), heading=head, status=status, level="category"
                )
                notice.categories.append(category)
                problem = sub = None
                if rest:
                    _category_text(category, rest, notice)
                continue
            num = (str(cn_number(cat_label)), head, rest)
        if num is not None or (part is not None and (problem is None or flat)):
            flat = num is None
            number, head, rest = num if num is not None else part
            if category is None:
                category = Category("", "")
                notice.categories.append(category)
            problem = Problem(number, _heading_title(head), heading=head)
            category.problems.append(problem)
            sub = None
            if rest:
                problem.text = problem.own_text = rest
        elif part is not None and problem is not None:
            number, head, rest = part
            sub = SubProblem(number, _heading_title(head), heading=head, text=rest)
            problem.sub_problems.append(sub)
            problem.text = _join(problem.text, line)
        elif problem is not None:
            problem.text = _join(problem.text, line)
            if sub is not None:
                sub.text = _join(sub.text, line)
            else:
                problem.own_text = _join(problem.own_text, line)
        elif category is not None:
            _category_text(category, line, notice)
        else:
            lead.append(line)
    if lead:
        narrative.append("\n".join(([f"{label}、{heading}"] if heading else []) + lead))


def _category_text(category: Category, line: str, notice: ParsedNotice) -> None:
    category.text = _join(category.text, line)
    notice.warnings.append(
        ParseWarning("outside_problem", f"text outside any problem: {line[:30]}…", text=line[:30])
    )


def _measures(text: str, sub: str | None, number: str, title: str, notice: ParsedNotice) -> list[Measure]:
    """The measures in `text`: 一是…二是… (labels kept as written, gaps warned of), else one."""
    text = "\n".join(line for line in text.split("\n") if not STATUS_LINE.match(line))
    text = LEAD.sub("", text).strip()
    parts = [(m.start(), m.group(1)) for m in MEASURE.finditer(text)]
    if not parts:
        return [Measure("", text, sub_problem=sub)] if text else []
    measures = []
    preface = text[: parts[0][0]].strip()
    for i, (pos, ordinal) in enumerate(parts):
        end = parts[i + 1][0] if i + 1 < len(parts) else len(text)
        body = text[pos:end].strip()
        body = re.sub(rf"^{ordinal}是\s*[,:]?", "", body).strip()
        measures.append(Measure(f"{ordinal}是", body, sub_problem=sub))
    if preface:
        measures[0].text = (preface + " " + measures[0].text).strip()
    ordinals = [cn_number(m.ordinal) for m in measures]
    if ordinals != list(range(1, len(ordinals) + 1)):
        labels = "、".join(m.ordinal for m in measures)
        notice.warnings.append(
            ParseWarning(
                "measure_labels",
                f"problem {number} “{title}”: measure labels {labels} are not consecutive (kept as written)",
                number=number,
                title=title,
                labels=labels,
            )
        )
    return measures


def _status_in(text: str, heading: str) -> str | None:
    """The status a status line in `text` states (整改状态:完成), else its heading's."""
    status = STATUS.search(text)
    return _status_value(status.group(1)) if status else _heading_status(heading)


def _fill_problem(problem: Problem, category: Category, notice: ParsedNotice) -> None:
    own = _measures(problem.own_text, None, problem.number, problem.title, notice)
    for sub in problem.sub_problems:
        number = f"{problem.number}({sub.number})"
        sub.measures = _measures(sub.text, sub.number, number, sub.title, notice)
        sub.status = _status_in(sub.text, sub.heading)
    problem.measures = own + [m for sub in problem.sub_problems for m in sub.measures]
    last_year = None
    for measure in problem.measures:
        measure.deadline, last_year = _planned(measure.text, last_year, problem)
    dated = [m.deadline for m in problem.measures if m.deadline]
    problem.deadline = max(dated) if dated else None
    text = problem.text
    problem.amounts = [to_yuan(n, u) for n, u in AMOUNT.findall(text)]
    recovered = [
        to_yuan(m.group(1) or m.group(3), m.group(2) or m.group(4) or "元") for m in RECOVER.finditer(text)
    ]
    problem.money_to_recover = sum(recovered, Decimal(0)) if recovered else None
    problem.persons = list(dict.fromkeys(PERSON.findall(text)))
    problem.status = (
        _status_in(problem.own_text, problem.heading) or _sub_status(problem.sub_problems) or category.status
    )
    if problem.status is None:
        if problem.planned_deadlines:
            problem.status = "planned"
        elif re.search(r"(目前)?已(全部)?完成", text):
            problem.status = "completed"


def _sub_status(subs: list[SubProblem]) -> str | None:
    """A problem's status from its sub-problems': theirs when they agree, else partial."""
    statuses = [s.status for s in subs if s.status]
    if not statuses:
        return None
    if len(statuses) == len(subs) and len(set(statuses)) == 1:
        return statuses[0]
    return "partial" if {"completed", "partial"} & set(statuses) else statuses[0]


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
    _period(body, notice)
    feedback = FEEDBACK.search(body)
    if feedback:
        notice.feedback_date = _resolve(body, feedback, 1, notice.inspection_end)
    for match in RUN_TOGETHER.finditer(body):
        raw = match.group(0)
        if raw not in notice.uncertain_dates:
            notice.uncertain_dates.append(raw)
            notice.warnings.append(
                ParseWarning(
                    "uncertain_date",
                    f"“{raw}”: the digits of a date ran together in the source; it was not read as a date",
                    text=raw,
                )
            )
    team = TEAM.search(body)
    notice.inspection_team = team.group(1) if team else ""
    unit = UNIT.search(body)
    notice.inspected_unit = unit.group(1).strip() if unit else ""
    _totals(body, notice)
    notice.amounts = [to_yuan(n, u) for n, u in AMOUNT.findall(body)]
    tail = body[-400:]
    phone = CONTACT_PHONE.search(tail)
    address = CONTACT_ADDRESS.search(tail)
    email = CONTACT_EMAIL.search(tail)
    notice.contact_phone = phone.group(1).strip() if phone else ""
    notice.contact_address = address.group(1).strip() if address else ""
    notice.contact_email = email.group(1) if email else ""


def _last_full_date(body: str, end: int) -> date | None:
    """The last date written with its year (2019年9月9日) before `end`."""
    last = None
    for match in DATE_FULL.finditer(body, 0, end):
        last = match
    return _date(*map(int, last.groups())) if last else None


def _resolve(body: str, match: re.Match, first: int, after: date | None = None) -> date | None:
    """The date in groups first..first+2 (year, month, day) of `match`; a date without its year
    (12月18日) takes the year of the date before it, and the next year when it would fall
    before that date."""
    year, month, day = match.group(first, first + 1, first + 2)
    if year:
        return _date(int(year), int(month), int(day))
    before = [d for d in (_last_full_date(body, match.start(first + 1)), after) if d]
    if not before:
        return None
    reference = max(before)
    resolved = _date(reference.year, int(month), int(day))
    if resolved and resolved < reference:
        resolved = _date(reference.year + 1, int(month), int(day))
    return resolved


def _period(body: str, notice: ParsedNotice) -> None:
    """The inspection period: the first span of dates followed by the inspection (…巡察组对…)."""
    for span in DATE_SPAN.finditer(body):
        if not re.search("巡[察视]", body[span.end() : span.end() + 60]):
            continue
        start = _resolve(body, span, 1)
        if start is None:
            continue
        end = _date(int(span.group(4)), int(span.group(5)), int(span.group(6))) if span.group(4) else None
        if end is None and not span.group(4):
            end = _date(start.year, int(span.group(5)), int(span.group(6)))
            if end and end < start:
                end = _date(start.year + 1, int(span.group(5)), int(span.group(6)))
        notice.inspection_start, notice.inspection_end = start, end
        return


def _totals(body: str, notice: ParsedNotice) -> None:
    """The stated totals, as `summary` (and `problems_stated`): the first total stated, with
    the counts of completed, partly completed and ongoing problems in its sentence."""
    found: dict[str, int] = {}
    for match in TOTAL.finditer(body):
        aspects, classes, units, together, total = match.groups()
        if not (
            aspects or classes or together or TOTAL_CUE.search(body, max(0, match.start() - 8), match.start())
        ):
            continue
        found.setdefault("total", int(total))
        if aspects and "aspects" not in found:
            n = int(aspects) if aspects.isdigit() else cn_number(aspects)
            if 0 < n <= 30:  # more is digits run together (413个方面33个问题)
                found["aspects"] = n
        if classes:
            found.setdefault("classes", int(classes))
        if units:
            found.setdefault("units", int(units))
        if not {"completed", "partial", "in_progress"} & set(found):
            sentence = re.split(r"[。\n]", body[match.end() : match.end() + 200], maxsplit=1)[0]
            for key, pattern in (
                ("completed", DONE_COUNT),
                ("partial", PARTIAL_COUNT),
                ("in_progress", ONGOING_COUNT),
            ):
                count = pattern.search(sentence)
                if count:
                    found[key] = int(count.group(1))
            if "completed" in found:
                found.setdefault("partial", 0)
    order = ("total", "aspects", "classes", "units", "completed", "partial", "in_progress")
    notice.summary = {key: found[key] for key in order if key in found}
    notice.problems_stated = found.get("total")


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _carry_years(notice: ParsedNotice) -> None:
    feedback, start = notice.feedback_date, notice.inspection_start
    if feedback and start and feedback < start:
        notice.feedback_date = _date(feedback.year + 1, feedback.month, feedback.day)


def _check(notice: ParsedNotice) -> None:
    """Reconcile what the text states with what was found; warn where they differ."""
    problems = notice.problems
    found = len(problems)
    items = sum(max(1, len(p.sub_problems)) for p in problems)  # sub-problems counted one by one
    if not found:
        notice.warnings.append(
            ParseWarning("no_problems", "no problems found: is this a rectification notice?")
        )
    if notice.problems_stated is not None and notice.problems_stated not in (found, items):
        notice.warnings.append(
            ParseWarning(
                "problem_count",
                f"the text states {notice.problems_stated} problems but {found} were found",
                stated=notice.problems_stated,
                found=found,
            )
        )
    summary = notice.summary
    categories = sum(1 for c in notice.categories if c.level)
    if "aspects" in summary and summary["aspects"] != categories:
        notice.warnings.append(
            ParseWarning(
                "aspect_count",
                f"the text states {summary['aspects']} aspects (方面) but {categories} categories were found",
                stated=summary["aspects"],
                found=categories,
            )
        )
    if "completed" in summary:
        completed = sum(1 for p in problems if p.status == "completed")
        partial = sum(1 for p in problems if p.status == "partial")
        if (completed, partial) != (summary["completed"], summary["partial"]):
            notice.warnings.append(
                ParseWarning(
                    "status_count",
                    f"the text counts {summary['completed']} completed and "
                    f"{summary['partial']} partly completed problems; the problems' own "
                    f"status lines give {completed} and {partial}",
                    stated_completed=summary["completed"],
                    stated_partial=summary["partial"],
                    completed=completed,
                    partial=partial,
                )
            )
    if "in_progress" in summary:
        ongoing = sum(1 for p in problems if p.status == "in_progress")
        if ongoing != summary["in_progress"]:
            notice.warnings.append(
                ParseWarning(
                    "in_progress_count",
                    f"the text counts {summary['in_progress']} problems still being rectified; "
                    f"the problems' own status gives {ongoing}",
                    stated=summary["in_progress"],
                    found=ongoing,
                )
            )


def as_dict(notice: ParsedNotice) -> dict:
    return asdict(notice)
