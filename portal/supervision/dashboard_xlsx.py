"""The dashboard as a workbook (督查督办驾驶舱.xlsx): the same figures as the page, one sheet each.

Titles and names are text, never formulas (portal.ledger.xlsx.text_cells)."""

from __future__ import annotations

import io

from portal.ledger.xlsx import text_cells
from portal.supervision.dashboard import Dashboard
from portal.supervision.levels import LEVELS
from workflows import EXTENSION, RECTIFICATION

NO_LEVEL = "未临期或已办结"


def _sheet(workbook, title: str, header: list[str], rows, widths=()) -> None:
    from openpyxl.styles import Font

    sheet = workbook.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(list(row))
    for n, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + n)].width = width


def _listed(rows):
    for row in rows:
        item = row.item
        yield (
            item.number or "",
            item.title,
            item.inspection.title,
            item.department.name if item.department else "",
            item.responsible_leader.display_name if item.responsible_leader else "",
            item.deadline,
            row.level.title_zh,
            row.days_left,
        )


def write_dashboard(d: Dashboard) -> bytes:
    from openpyxl import Workbook  # (imported when used: a tenth of a second at every start)

    workbook = Workbook()
    summary = workbook.active
    summary.title = "概况"
    summary.append(["督查督办驾驶舱", d.inspection.title if d.inspection else "全部巡察"])
    summary.append(["统计日期", d.today])
    summary.cell(2, 2).number_format = "yyyy-mm-dd"
    for label, value in (
        ("整改事项", d.total),
        ("已完成", d.completed),
        ("完成率(%)", d.rate),
        ("已逾期（督办、约谈）", d.overdue_count),
        ("临期（预警、提醒）", d.at_risk_count),
        ("已批准延期", d.extensions.get("approved", 0)),
        ("待审批延期", d.pending_extensions),
        ("群众反映未改好", d.not_fixed_reports),
    ):
        summary.append([label, value])
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 40

    _sheet(
        workbook,
        "按状态",
        ["整改状态", "事项数"],
        ((s.title_zh, d.by_state.get(s.id, 0)) for s in RECTIFICATION.states),
        (14, 10),
    )
    _sheet(
        workbook,
        "按督办等级",
        ["督办等级", "事项数"],
        ((level.title_zh if level else NO_LEVEL, d.by_level.get(level.id, 0)) for level in reversed(LEVELS)),
        (18, 10),
    )
    _sheet(
        workbook,
        "按问题类别",
        ["问题类别", "事项数", "已完成", "已逾期", "完成率(%)"],
        ((t.label or "未分类", t.items, t.completed, t.overdue, t.rate) for t in d.categories),
        (50, 10, 10, 10, 10),
    )
    _sheet(
        workbook,
        "责任部门排名",
        ["排名", "责任部门", "事项数", "已完成", "已逾期", "完成率(%)"],
        (
            (n, t.label or "未指定部门", t.items, t.completed, t.overdue, t.rate)
            for n, t in enumerate(d.departments, start=1)
        ),
        (6, 24, 10, 10, 10, 10),
    )
    listed_header = ["序号", "问题", "巡察", "责任部门", "责任领导", "整改时限", "督办等级", "剩余天数"]
    widths = (6, 40, 30, 16, 12, 12, 10, 10)
    _sheet(workbook, "逾期事项", listed_header, _listed(d.overdue), widths)
    _sheet(workbook, "临期事项", listed_header, _listed(d.at_risk), widths)
    for name in ("逾期事项", "临期事项"):
        for line in workbook[name].iter_rows(min_row=2):
            line[5].number_format = "yyyy-mm-dd"
    _sheet(
        workbook,
        "完成趋势",
        ["月份", "完成事项数"],
        [("更早", d.completed_earlier)] + [(m.key, m.completed) for m in d.months],
        (12, 12),
    )
    _sheet(
        workbook,
        "延期申请",
        ["申请状态", "申请数"],
        [(s.title_zh, d.extensions.get(s.id, 0)) for s in EXTENSION.states]
        + [("获批延期的事项", d.extended_items)],
        (18, 10),
    )
    _sheet(
        workbook,
        "群众反映未改好",
        ["序号", "问题", "巡察", "责任部门", "反映次数", "最近反映"],
        (
            (
                r.item.number or "",
                r.item.title,
                r.item.inspection.title,
                r.item.department.name if r.item.department else "",
                r.reports,
                r.latest,
            )
            for r in d.not_fixed
        ),
        (6, 40, 30, 16, 10, 18),
    )
    for sheet in workbook.worksheets:
        text_cells(sheet)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
