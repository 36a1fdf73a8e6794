"""Generating the public rectification notice (整改情况通报) from the current data.

One structure, three renderings: plain text, HTML (a template) and DOCX in the look of an
official document (GB/T 9704: A4, 方正小标宋 title, 黑体/楷体 headings, 仿宋 body). The text
rendering parses back (portal.notices.parser) to the same tree: that round trip is tested.

The DOCX also carries what GB/T 9704 asks of a document that goes out (portal.core.docx_layout):
the page number "— 1 —" in the footer, and at the end the signature block (落款) and the date
(成文日期). The notice is the inspected party organisation's report of its own rectification, so
the issuer is that organisation as the title names it (中共某某局党组 in "中共某某局党组关于巡察整改
情况的通报", the form GB/T 9704 gives titles: issuer, 关于, subject); a title without "关于" names no
issuer, and the inspection's inspected unit signs. The date is the day of the export (in the
configured time zone): the notice is drawn from the data as they are that day, and the office
exports it to issue it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from portal.core.docx_layout import add_page_numbers, add_signature
from portal.core.extensions import db
from portal.core.filters import active_in
from portal.core.official_docx import HEADING, SUBHEADING, OfficialDocument
from portal.core.timeutil import today
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from workflows import RECTIFICATION

CN_NUMERALS = "一二三四五六七八九十"
STATUS_TEXT = {
    "assigned": "未完成",
    "in_progress": "持续推进",
    "pending_review": "持续推进",
    "completed": "完成",
    "follow_up": "完成",
}
INVITATION = "欢迎广大干部群众对巡察整改落实情况进行监督。如有意见建议,请及时反馈。"


def cn_numeral(n: int) -> str:
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


def cn_date(d: date, with_year: bool = True) -> str:
    return (f"{d.year}年" if with_year else "") + f"{d.month}月{d.day}日"


@dataclass
class NoticeProblem:
    number: str
    title: str
    measures: list[tuple[str, str]]  # (label as written, text)
    status: str


@dataclass
class NoticeSection:
    label: str  # 一, 二 … ("" for problems with no category)
    title: str
    problems: list[NoticeProblem] = field(default_factory=list)


@dataclass
class Notice:
    title: str
    opening: str
    organisation: str
    sections: list[NoticeSection]
    closing: str
    contact: str
    issuer: str  # 落款: who signs the notice
    dated: date  # 成文日期


def counted_items(inspection: Inspection) -> list[RectificationItem]:
    """Every item of the inspection that counts (not withdrawn), in order."""
    return db.session.scalars(
        sa.select(RectificationItem)
        .where(RectificationItem.inspection_id == inspection.id, active_in(RectificationItem, RECTIFICATION))
        .order_by(RectificationItem.id)
    ).all()


def _numbering_restarts(items: list[RectificationItem]) -> bool:
    """Does the source number problems afresh in each category (1. 2. | 1. 2. 3.)?"""
    numbers = [i.number for i in items if i.number]
    return len(numbers) != len(set(numbers))


def build_notice(inspection: Inspection, items: list[RectificationItem] | None = None) -> Notice:
    """Collect the notice's content (a fixed number of queries whatever the number of items).

    `items` are the problems the notice details (the published ones, on the public side);
    its totals are always the inspection's: every problem that counts. Problems are numbered
    as the source numbers them (afresh per category, or straight through), with no gaps.
    """
    every = counted_items(inspection)
    if items is None:
        items = every
    categories = db.session.scalars(
        sa.select(Category)
        .where(Category.inspection_id == inspection.id)
        .order_by(Category.position, Category.id)
    ).all()
    measures: dict[int, list[Measure]] = {}
    for m in db.session.scalars(
        sa.select(Measure)
        .where(Measure.item_id.in_([i.id for i in items]))
        .order_by(Measure.position, Measure.id)
    ):
        measures.setdefault(m.item_id, []).append(m)
    sections = {c.id: NoticeSection(c.label or cn_numeral(n + 1), c.title) for n, c in enumerate(categories)}
    loose = NoticeSection("", "")
    for item in items:
        problem = NoticeProblem(
            item.number or "",
            item.title,
            [(m.label, m.text) for m in measures.get(item.id, [])],
            STATUS_TEXT[item.state],
        )
        sections.get(item.category_id, loose).problems.append(problem)
    ordered = [s for s in sections.values() if s.problems] + ([loose] if loose.problems else [])
    restarts, n = _numbering_restarts(every), 0
    for section in ordered:
        n = 0 if restarts else n
        for problem in section.problems:
            n += 1
            problem.number = str(n)
    total = len(every)
    done = sum(1 for i in every if STATUS_TEXT.get(i.state) == "完成")
    shown = sum(len(s.problems) for s in ordered)
    partial = (
        f"本通报公布其中{shown}项问题的整改情况,其余{total - shown}项将在整改完成后适时公布。"
        if shown < total
        else ""
    )
    return Notice(
        title=inspection.title,
        opening=_opening(inspection),
        organisation=(
            f"对巡察反馈的{total}项问题逐项制定整改措施,明确责任领导、责任部门和整改时限。"
            f"巡察反馈{total}个具体问题,整改完成{done}个。{partial}"
        ),
        sections=ordered,
        closing="对已完成的整改任务适时组织“回头看”,对需要长期坚持的加强跟踪督办,持续巩固整改成效。",
        contact=_contact(inspection),
        issuer=notice_issuer(inspection),
        dated=today(),
    )


def notice_issuer(inspection: Inspection) -> str:
    """Who signs the notice: the organisation before "关于" in its title, else the inspected unit."""
    named, about, _subject = inspection.title.partition("关于")
    return named.strip() if about and named.strip() else inspection.inspected_unit.strip()


def _opening(inspection: Inspection) -> str:
    team = inspection.inspection_team or "巡察组"
    unit = inspection.inspected_unit or "本单位"
    parts = ["根据巡察工作统一部署,"]
    if inspection.start_date and inspection.end_date:
        same_year = inspection.start_date.year == inspection.end_date.year
        parts.append(
            f"{cn_date(inspection.start_date)}至{cn_date(inspection.end_date, with_year=not same_year)},"
        )
    parts.append(f"{team}对{unit}开展了巡察。")
    if inspection.feedback_date:
        parts.append(f"{cn_date(inspection.feedback_date)},{team}向{unit}反馈了巡察意见。")
    parts.append("按照党务公开原则和巡察工作有关要求,现将巡察整改情况予以公布。")
    return "".join(parts)


def _contact(inspection: Inspection) -> str:
    parts = [
        p
        for p in (
            f"联系方式:{inspection.contact_phone}" if inspection.contact_phone else "",
            f"邮政地址:{inspection.contact_address}" if inspection.contact_address else "",
            f"电子邮箱:{inspection.contact_email}" if inspection.contact_email else "",
        )
        if p
    ]
    return ";".join(parts) + ("。" if parts else "")


def section_heading(section: NoticeSection) -> str:
    return f"({section.label})对于巡察反馈意见中关于“{section.title}”问题的整改"


def problem_heading(problem: NoticeProblem) -> str:
    return f"{problem.number}.对于“{problem.title}”问题的整改"


def measures_paragraph(problem: NoticeProblem) -> str:
    return "".join(f"{label}{text}" if label else text for label, text in problem.measures)


def template_helpers() -> dict:
    """What templates/notices/_article.html needs besides the notice itself."""
    return {
        "invitation": INVITATION,
        "section_heading": section_heading,
        "problem_heading": problem_heading,
        "measures_paragraph": measures_paragraph,
    }


def render_text(notice: Notice) -> str:
    return "".join(iter_text(notice))


def iter_text(notice: Notice) -> Iterator[str]:
    """The notice as plain text, a problem at a time (the download streams it)."""
    opening = [notice.title, "", notice.opening, "", "一、组织整改", "", notice.organisation, ""]
    yield "\n".join(opening) + "\n"
    yield "二、对照问题清单,扎实推进整改落实\n\n"
    for section in notice.sections:
        if section.title:
            yield section_heading(section) + "\n\n"
        for problem in section.problems:
            lines = [problem_heading(problem), ""]
            if problem.measures:
                lines += [measures_paragraph(problem), ""]
            lines += [f"整改状态:{problem.status}", ""]
            yield "\n".join(lines) + "\n"
    closing = ["三、持续整改,巩固提升整改成效", "", notice.closing, "", INVITATION + notice.contact]
    yield "\n".join(closing) + "\n"


def render_docx(notice: Notice) -> bytes:
    doc = OfficialDocument()
    doc.title(notice.title)
    doc.paragraph(notice.opening)
    doc.paragraph("一、组织整改", HEADING)
    doc.paragraph(notice.organisation)
    doc.paragraph("二、对照问题清单,扎实推进整改落实", HEADING)
    for section in notice.sections:
        if section.title:
            doc.paragraph(section_heading(section), SUBHEADING)
        for problem in section.problems:
            doc.paragraph(problem_heading(problem)).runs[0].font.bold = True
            if problem.measures:
                doc.paragraph(measures_paragraph(problem))
            doc.paragraph(f"整改状态:{problem.status}")
    doc.paragraph("三、持续整改,巩固提升整改成效", HEADING)
    doc.paragraph(notice.closing)
    doc.paragraph(INVITATION + notice.contact)
    add_signature(doc, notice.issuer, notice.dated)
    add_page_numbers(doc.document)
    return doc.save()
