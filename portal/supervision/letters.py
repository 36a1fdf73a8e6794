"""The letter a warning produces: 提醒函 / 预警函 / 督办单 / 约谈通知, as an official-look DOCX.

Written from the warning's facts when it is downloaded (the warning row and the item's data
at issue are in the audit log; the letter restates them): addressees, the item, its deadline,
how far it is, its open measures and what is asked.
"""

from __future__ import annotations

from portal.core.docx_layout import add_signature
from portal.core.official_docx import HEADING, OfficialDocument
from portal.core.timeutil import today
from portal.notices.export import cn_date
from portal.supervision.levels import BY_ID
from portal.supervision.models import SupervisionWarning

#: level -> (letter title, what it asks)
LETTERS = {
    "remind": ("整改提醒函", "请对照整改措施抓紧推进，按期完成整改并及时提交佐证材料。"),
    "warn": ("整改预警函", "请分管领导督促责任部门倒排工期、压实责任，确保在整改时限内完成整改。"),
    "supervise": (
        "整改督办单",
        "该事项已超过整改时限。请于收到本督办单后5个工作日内书面说明原因，提出补救措施和完成时间。",
    ),
    "interview": (
        "整改约谈通知",
        "该事项逾期时间较长，巡察整改办将对责任领导和责任部门负责人进行约谈，请做好准备。",
    ),
}


def letter_title(warning: SupervisionWarning) -> str:
    return LETTERS[warning.level][0]


def render_letter(warning: SupervisionWarning) -> bytes:
    item, level = warning.item, BY_ID[warning.level]
    title, ask = LETTERS[warning.level]
    addressees = "、".join(
        name
        for name in (
            item.department.name if item.department else "",
            item.responsible_leader.display_name if item.responsible_leader else "",
            item.staff.display_name if item.staff else "",
        )
        if name
    )
    days = (warning.deadline - warning.pass_day).days
    standing = f"距整改时限还有{days}天" if days >= 0 else f"已超过整改时限{-days}天"
    doc = OfficialDocument()
    doc.title(title)
    doc.paragraph(f"{addressees or '责任单位'}:", indent=False)
    doc.paragraph(
        f"根据巡察整改督办工作安排,现对“{item.inspection.title}”中的整改事项"
        f"“{item.number + '.' if item.number else ''}{item.title}”发出{level.title_zh}。"
        f"该事项整改时限为{cn_date(warning.deadline)},截至{cn_date(warning.pass_day)}{standing}。"
    )
    open_measures = [m for m in item.measures if not m.closed]
    if open_measures:
        doc.paragraph("尚未完成的整改措施", HEADING)
        for measure in open_measures:
            doc.paragraph(f"{measure.label + '、' if measure.label else ''}{measure.text}")
    doc.paragraph("工作要求", HEADING)
    doc.paragraph(ask)
    add_signature(doc, "巡察整改办", warning.pass_day)  # 落款 and 成文日期 (GB/T 9704 7.3.5.2)
    doc.paragraph(f"(编号:督-{warning.id:06d},生成于{cn_date(today())})", right=True)
    return doc.save()
