"""The bad-input table: every form field × every hostile value → a clear response (a status
code and a message in Chinese), never a 500, on SQLite and on PostgreSQL alike.

Each target is one form as a browser posts it: who posts it, where, and a valid submission.
Each row changes one field of that submission to one hostile value and says what must come
back. Rows run through the test client; every target runs in a fresh world, and the failures of
all its rows are reported together.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from portal.accounts.models import Department, User
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.feedback.models import Feedback
from portal.inspections.models import RectificationItem
from portal.ledger.xlsx import COLUMNS, text_cells
from portal.notices.models import NoticePreview
from tests.evidence.test_evidence import PDF
from tests.inspections.test_readable_history import _edit_form
from tests.notices.test_import_page import preview_data, token_of
from tests.notices.test_parser import NOTICE

# --- the hostile values ---------------------------------------------------------------------

MISSING = object()  # the field is left out of the submission altogether
NUL = "会议记录\x00仍未归档"
CONTROL = "会议记录\x1b[31m仍未归档\x07"
SEPARATOR = "会议\x1c记录"  # Python's str.strip() takes it for white space
DEL = "会议记录\x7f仍未归档"
C1 = "会议记录\x9b仍未归档"
TAB = "会议记录\t仍未归档"  # fine in a text box, not in a one-line field
LINES = "会议记录\r\n仍未归档\t（附件）"
HUGE = "长" * 100_001
FORMULA = "=cmd|' /C calc'!A0"
SPACES = "   \u3000 "
AMOUNTS = ["Infinity", "-Infinity", "NaN", "1e400", "9" * 30, "1000000000000", "0.001", "1e3"]
NEGATIVE = "-5"

# --- the expected messages (Chinese fragments) ----------------------------------------------

CONTROL_MSG = "控制字符"
MONEY_MSG = "最多两位小数"
NEGATIVE_MSG = "金额不能为负数"
EVIDENCE_MSG = "请选择文件或填写说明"
REQUIRED_MSG = "必填"


def at_most(n: int) -> str:
    return f"最多 {n:,} 个字"  # 个字符 (most fields), 个字 (the chase note)


@dataclass(frozen=True)
class Row:
    field: str
    value: object
    status: int
    message: str | None = None  # a fragment the response must contain
    also: dict = field(default_factory=dict)  # other fields changed with it


@dataclass
class Target:
    name: str
    persona: str | None  # None: an anonymous visitor
    #: (world, client) → (url, valid data); may prepare what the form needs
    setup: Callable
    rows: list[Row]
    ok: int = 302  # the status of the valid submission
    follow: bool = False  # the refusal is shown on the page the form redirects to
    multipart: bool = False
    method: str = "POST"
    #: a field whose value the refusal page must show again (what was typed is kept)
    kept: str | None = None
    #: (app) → a count that must not grow when a row is refused
    saved: Callable | None = None
    extra: dict = field(default_factory=dict)


def text_rows(
    name: str, limit: int, status: int, *, multiline: bool, required: bool = False, missing=0
) -> list[Row]:
    """The hostile values every text field gets (`missing`: the status when the field is left out
    altogether, default `status`; None where an edit form then keeps the stored value)."""
    rows = [
        Row(name, NUL, status, CONTROL_MSG),
        Row(name, CONTROL, status, CONTROL_MSG),
        Row(name, SEPARATOR, status, CONTROL_MSG),
        Row(name, DEL, status, CONTROL_MSG),
        Row(name, C1, status, CONTROL_MSG),
        Row(name, "x" * (limit + 1) if limit < 1000 else HUGE, status, at_most(limit)),
    ]
    if multiline:
        rows.append(Row(name, LINES, None))  # tab, CR and LF are part of multi-line text
    else:
        rows.append(Row(name, TAB, status, CONTROL_MSG))
    if required:
        rows.append(Row(name, SPACES, status, None))
        rows.append(Row(name, MISSING, status if missing == 0 else missing, None))
    return rows


def money_rows(name: str, status: int) -> list[Row]:
    return [Row(name, v, status, MONEY_MSG) for v in AMOUNTS] + [Row(name, NEGATIVE, status, NEGATIVE_MSG)]


def count(model, *where):
    def counter(app) -> int:
        with app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return counter


# --- the targets ----------------------------------------------------------------------------


def _published(world) -> int:
    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    return item_id


def feedback_setup(world, _client):
    item_id = _published(world)
    world.app.config["FEEDBACK_RATE_LIMIT"] = "1000 per minute"
    url = f"/public/inspections/{world.inspections['single']}/items/{item_id}/feedback"
    return url, {"kind": "not_rectified", "text": "会议记录仍未归档，请核实。", "name": "张三"}


def fix_check_setup(world, _client):
    item_id = _published(world)
    world.app.config["FEEDBACK_RATE_LIMIT"] = "1000 per minute"
    return f"/public/items/{item_id}/fixed", {"answer": "not_fixed", "comment": "仍未改好"}


def item_edit_setup(world, _client):
    item_id = world.new_item()
    return f"/items/{item_id}/edit", _edit_form(world, item_id, feedback_text="原文", public_summary="")


def new_item_setup(world, _client):
    url = f"/inspections/{world.inspections['single']}/items/new"
    data = {"category_id": "0", "title": "新的整改事项", "responsible_leader_id": "0", "staff_id": "0"}
    return url, {**data, "department_id": "0", "money_to_recover": "161000.50"}


def new_inspection_setup(world, _client):
    data = {"title": "区财政局巡察整改", "approval_policy": "single", "party_secretary_id": "0"}
    days = {"remind_days": "20", "warn_days": "10", "interview_days": "15", "follow_up_months": "6"}
    contact = {"contact_phone": "0755-12345678", "contact_address": "南山区", "contact_email": "a@b.cn"}
    return "/inspections/new", {**data, **days, **contact, "inspected_unit": "区财政局"}


def category_setup(world, _client):
    return f"/inspections/{world.inspections['single']}/categories/new", {"label": "二", "title": "党建"}


def measure_setup(world, _client):
    item_id = world.new_item()
    return f"/items/{item_id}/measures", {"label": "一是", "text": "完善制度", "deadline": ""}


def measure_edit_setup(world, _client):
    item_id = world.new_item()
    measure_id = world.add_measure(item_id)
    return f"/measures/{measure_id}/edit", {"label": "一是", "text": "完善制度", "change_note": "改"}


def measure_status_setup(world, _client):
    measure_id = world.add_measure(world.new_item(state="in_progress"))
    return f"/measures/{measure_id}/status", {"status": "long_term", "reason": "需长期坚持"}


def transition_setup(world, _client):
    item_id = world.new_item()
    with world.app.app_context():
        version = world.item(item_id).version
    return f"/items/{item_id}/transitions/start", {"comment": "开始整改", "version": str(version)}


def evidence_setup(world, _client):
    item_id = world.new_item(state="in_progress")
    return f"/items/{item_id}/evidence", {"note": "《管理规定》修订稿"}


def extension_setup(world, _client):
    item_id = world.new_item(state="in_progress", deadline=date.today() + timedelta(days=30))
    with world.app.app_context():
        version = world.item(item_id).version
    return f"/items/{item_id}/extensions", {
        "proposed_deadline": (date.today() + timedelta(days=60)).isoformat(),
        "reason": "需协调区财政局补充预算",
        "progress_note": "已完成现场核查",
        "version": str(version),
    }


def chase_setup(world, _client):
    return f"/items/{world.new_item(state='in_progress')}/chase", {"text": "请于本周内报送整改进展。"}


def _feedback_row(world) -> int:
    from portal.feedback.operations import submit_feedback
    from portal.inspections.models import Inspection

    item_id = _published(world)
    with world.app.app_context():
        inspection = db.session.get(Inspection, world.inspections["single"])
        feedback, _code = submit_feedback(
            inspection, world.item(item_id), kind="suggestion", text="建议公开整改台账。"
        )
        db.session.commit()
        return feedback.id


def feedback_edit_setup(world, _client):
    return f"/feedback/{_feedback_row(world)}/edit", {"text": "建议公开整改台账（已删去个人信息）。"}


def feedback_reply_setup(world, _client):
    return f"/feedback/{_feedback_row(world)}/reply", {"reply": "感谢您的建议，已转交相关部门。"}


def lookup_setup(_world, _client):
    return "/public/feedback/lookup", {"code": "AAAA-BBBB-CCCC"}


def revert_setup(world, client):
    item_id = world.new_item()
    data = _edit_form(world, item_id, title="改过的标题")
    assert client.post_form(f"/items/{item_id}/edit", data).status_code == 302
    return f"/versions/item/{item_id}/1/revert", {"change_note": "撤销修改"}


def notice_setup(_world, _client):
    return "/inspections/import", {"text": NOTICE.read_text(encoding="utf-8")}


def preview_setup(_world, client):
    text = NOTICE.read_text(encoding="utf-8")
    token = token_of(client.post_form("/inspections/import", {"text": text}))
    return "/inspections/import/confirm", preview_data(token, text)


def _ledger(**cells) -> bytes:
    row = ["1", "一、党建", "理论学习不深入", "一是制定计划", "", "", "", "2026-06-30", "", "0%", "", 0]
    for index, value in cells.items():
        row[int(index[1:])] = value
    book = Workbook()
    sheet = book.active
    sheet.append(["某局巡察整改台账"])
    sheet.append(list(COLUMNS))
    sheet.append(row)
    text_cells(sheet)  # text as text: a formula's text is read as what it says
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ledger_setup(_world, _client):
    return "/inspections/import-ledger", {"file": (io.BytesIO(_ledger()), "台账.xlsx"), "title": "新台账"}


def dashboard_setup(_world, _client):
    return "/dashboard", {"inspection": ""}


def login_setup(_world, _client):
    from tests.conftest import TEST_PASSWORD

    return "/login", {"login": "staff", "password": TEST_PASSWORD}


def new_user_setup(_world, _client):
    return "/admin/users/new", {
        "login": "newcomer",
        "display_name": "新同事",
        "email": "newcomer@example.cn",
        "department_id": "0",
        "password": "Rectify-Strong-2026!",
        "confirm": "Rectify-Strong-2026!",
    }


def department_setup(_world, _client):
    return "/admin/departments", {"name": "审计科"}


def audit_filter_setup(_world, _client):
    return "/audit/", {"actor": "", "action": "", "object_id": ""}


def audit_export_setup(_world, _client):
    return "/audit/export", {"format": "csv", "actor": ""}


PREVIEW_TITLE = "categories-0-problems-0-title"

TARGETS = [
    Target(
        "public feedback",
        None,
        feedback_setup,
        [
            *text_rows("text", 2000, 400, multiline=True),
            Row("text", SPACES, 400, "请填写意见建议"),
            Row("text", MISSING, 400, "请填写意见建议"),
            Row("text", FORMULA, 201),  # kept as the text it is
            *text_rows("name", 60, 400, multiline=False),
            Row("email", NUL, 400, CONTROL_MSG),
            Row("email", "a@b.cn" + "x" * 300, 400, None),
            Row("phone", NUL, 400, CONTROL_MSG),
            Row("phone", "1" * 100, 400, "请输入有效的电话号码"),
            Row("kind", NUL, 400, None),
            Row("kind", MISSING, 400, None),
            Row("website", NUL, 400),  # the honeypot: refused, no one to tell
        ],
        ok=201,
        kept="name",
        saved=count(Feedback),
    ),
    Target(
        "is it really fixed",
        None,
        fix_check_setup,
        [
            *text_rows("comment", 500, 400, multiline=True),
            Row("answer", NUL, 400, None),
            Row("answer", MISSING, 400, None),
        ],
    ),
    Target(
        "tracking code lookup",
        None,
        lookup_setup,
        [
            Row("code", NUL, 200, CONTROL_MSG),
            Row("code", HUGE, 200, at_most(30)),
            Row("code", MISSING, 200, "请输入查询码"),
        ],
        ok=200,
    ),
    Target(
        "item edit",
        "office",
        item_edit_setup,
        [
            *text_rows("title", 300, 200, multiline=False, required=True, missing=None),
            *text_rows("number", 20, 200, multiline=False),
            *text_rows("feedback_text", 10_000, 200, multiline=True),
            *text_rows("completion_summary", 10_000, 200, multiline=True),
            *text_rows("public_summary", 10_000, 200, multiline=True),
            *text_rows("change_note", 500, 200, multiline=False),
            Row("title", FORMULA, 302),
            *money_rows("money_to_recover", 200),
            *money_rows("money_recovered", 200),
            Row("money_to_recover", "999999999999.99", 302),
            Row("progress_override", "1e400", 200, None),
            Row("progress_override", "Infinity", 200, None),
            Row("deadline", NUL, 200, None),
            Row("version", NUL, 200, CONTROL_MSG),
            Row("version", MISSING, 302),  # no version: checked against the current one
            Row("staff_id", NUL, 200, None),
        ],
        kept="title",
        saved=count(RectificationItem, RectificationItem.title == "改过的标题"),
    ),
    Target(
        "new item",
        "office",
        new_item_setup,
        [
            *text_rows("title", 300, 200, multiline=False, required=True),
            *money_rows("money_to_recover", 200),
            Row("money_to_recover", MISSING, 302),
        ],
        kept="title",
        saved=count(RectificationItem),
    ),
    Target(
        "new inspection",
        "office",
        new_inspection_setup,
        [
            *text_rows("title", 300, 200, multiline=False, required=True),
            *text_rows("inspected_unit", 200, 200, multiline=False),
            *text_rows("contact_address", 200, 200, multiline=False),
            Row("contact_phone", NUL, 200, CONTROL_MSG),
            Row("contact_email", NUL, 200, CONTROL_MSG),
            Row("remind_days", "1e400", 200, "请输入"),
            Row("remind_days", MISSING, 302),  # the default
        ],
        kept="inspected_unit",
    ),
    Target(
        "new category",
        "office",
        category_setup,
        [
            *text_rows("title", 300, 200, multiline=False, required=True),
            *text_rows("label", 20, 200, multiline=False),
        ],
    ),
    Target(
        "new measure",
        "office",
        measure_setup,
        [
            *text_rows("text", 10_000, 400, multiline=True, required=True),
            *text_rows("label", 20, 400, multiline=False),
        ],
    ),
    Target(
        "measure edit",
        "office",
        measure_edit_setup,
        [
            *text_rows("text", 10_000, 200, multiline=True, required=True, missing=None),
            *text_rows("change_note", 500, 200, multiline=False),
        ],
        kept="change_note",
    ),
    Target(
        "measure status",
        "staff_resp",
        measure_status_setup,
        [
            *text_rows("reason", 500, 400, multiline=False),
            Row("reason", SPACES, 400, "请说明"),
            Row("status", NUL, 400, None),
        ],
    ),
    Target(
        "transition comment",
        "staff_resp",
        transition_setup,
        [*text_rows("comment", 4000, 400, multiline=True), Row("version", "0", 409, "已被他人修改")],
        kept="comment",
    ),
    Target(
        "evidence",
        "staff_resp",
        evidence_setup,
        [
            *text_rows("note", 4000, 400, multiline=True),
            Row("note", SPACES, 400, EVIDENCE_MSG),
            Row("note", MISSING, 400, EVIDENCE_MSG),
            Row("file", ("", b""), 400, EVIDENCE_MSG, also={"note": ""}),
            Row("file", ("", PDF), 400, EVIDENCE_MSG, also={"note": "  "}),
            Row("file", ("", PDF), 302),  # the note is the evidence
            Row("file", ("整改说明" * 62 + ".pdf", PDF), 302),  # 252 characters: shortened, kept
            Row("file", ("说明\x00.pdf", PDF), 302),
            Row("file", ("说明.html", b"<script>alert(1)</script>"), 400, "不接受此类型的文件"),
        ],
        multipart=True,
    ),
    Target(
        "extension request",
        "staff_resp",
        extension_setup,
        [
            *text_rows("reason", 2000, 400, multiline=True, required=True),
            *text_rows("progress_note", 4000, 400, multiline=True, required=True),
            Row("proposed_deadline", NUL, 400, "年-月-日"),
            Row("proposed_deadline", MISSING, 400, None),
        ],
        kept="reason",
    ),
    Target(
        "chase",
        "office",
        chase_setup,
        [*text_rows("text", 500, 400, multiline=True, required=True)],
        kept="text",
    ),
    Target(
        "feedback text edit",
        "office",
        feedback_edit_setup,
        [*text_rows("text", 2000, 302, multiline=True, required=True)],
        follow=True,
    ),
    Target(
        "feedback reply",
        "office",
        feedback_reply_setup,
        [*text_rows("reply", 4000, 302, multiline=True, required=True)],
        follow=True,
    ),
    Target(
        "revert",
        "office",
        revert_setup,
        [*text_rows("change_note", 500, 302, multiline=False)],
        follow=True,
    ),
    Target(
        "notice import",
        "office",
        notice_setup,
        [
            # the upload page answers its refusals with 200, as for an empty or binary file
            Row("text", NOTICE.read_text(encoding="utf-8") + "\x00", 200, CONTROL_MSG),
            Row("text", NOTICE.read_text(encoding="utf-8") + "\x1b", 200, CONTROL_MSG),
            Row("text", HUGE, 200, at_most(100_000)),
            Row("text", MISSING, 200, "请选择文件或粘贴通报正文"),
            Row("text", SPACES, 200, "文件为空"),
            # a file without pasted text (both at once is refused as such)
            Row(
                "file",
                ("通报.txt", ("整改" * 50_001).encode("gb18030")),
                200,
                at_most(100_000),
                also={"text": ""},
            ),
            Row("file", ("通报.txt", b"\x1b[31m" + NOTICE.read_bytes()), 200, CONTROL_MSG, also={"text": ""}),
        ],
        ok=200,
        multipart=True,
        saved=count(NoticePreview),
    ),
    Target(
        "notice preview",
        "office",
        preview_setup,
        [
            *text_rows(PREVIEW_TITLE, 300, 400, multiline=False),
            Row("categories-0-title", NUL, 400, CONTROL_MSG),
            Row("categories-0-problems-0-measures-0-label", NUL, 400, CONTROL_MSG),
            Row("token", NUL, 400, None),
        ],
    ),
    Target(
        "ledger import",
        "office",
        ledger_setup,
        [
            *text_rows("title", 300, 200, multiline=False),
            Row("c9", "inf%", 400, "不是有效的百分比"),
            Row("c9", "1e400%", 400, "不是有效的百分比"),
            Row("c9", "NaN", 400, "不是有效的百分比"),
            Row("c2", DEL, 400, CONTROL_MSG),
            Row("c2", "问" * 301, 400, at_most(300)),
            Row("c3", HUGE, 400, at_most(10_000)),
            Row("c2", FORMULA, 302),
            Row("file", MISSING, 200, "请选择文件"),
        ],
        multipart=True,
    ),
    Target(
        "sign in",
        None,
        login_setup,
        [
            Row("login", NUL, 200, CONTROL_MSG),
            Row("login", C1, 200, CONTROL_MSG),
            Row("password", NUL, 200, CONTROL_MSG),
        ],
        saved=count(AuditEvent),  # a refused form is no sign-in attempt: nothing is audited
    ),
    Target(
        "new account",
        "admin",
        new_user_setup,
        [
            *text_rows("display_name", 120, 200, multiline=False, required=True),
            Row("login", NUL, 200, CONTROL_MSG),
            Row("email", NUL, 200, CONTROL_MSG),
        ],
        saved=count(User),
        kept="display_name",
    ),
    Target(
        "department",
        "admin",
        department_setup,
        [*text_rows("name", 120, 200, multiline=False, required=True)],
        saved=count(Department),
    ),
    Target(
        "audit log filter",
        "auditor",
        audit_filter_setup,
        [Row("actor", NUL, 200, CONTROL_MSG), Row("object_id", CONTROL, 200, CONTROL_MSG)],
        ok=200,
        method="GET",
    ),
    Target(
        "audit export",
        "auditor",
        audit_export_setup,
        [Row("actor", NUL, 302, CONTROL_MSG), Row("action", C1, 302, CONTROL_MSG)],
        ok=200,
        follow=True,  # refused: back on the log, the filter's message shown
        saved=count(AuditEvent, AuditEvent.action == "audit.export"),
    ),
    Target(
        "dashboard filter",
        "office",
        dashboard_setup,
        [Row("inspection", NUL, 400, "没有这一轮次"), Row("inspection", HUGE, 400, "没有这一轮次")],
        ok=200,
        method="GET",
    ),
]


# --- running the table ----------------------------------------------------------------------


def _apply(target: Target, data: dict, row: Row) -> dict:
    """The valid submission with the row's change: a ledger row's `cN` is cell N of the sheet."""
    data = dict(data)
    if target.name == "ledger import" and re.fullmatch(r"c\d+", row.field):
        data["file"] = (io.BytesIO(_ledger(**{row.field: row.value})), "台账.xlsx")
    elif row.value is MISSING:
        data.pop(row.field, None)
    elif row.field == "file":
        name, content = row.value
        data["file"] = (io.BytesIO(content), name)
    else:
        data[row.field] = row.value
    data.update(row.also)
    return data


def _send(target: Target, client, url: str, data: dict):
    if target.method == "GET":
        return client.get(url, query_string=data)
    kwargs = {"content_type": "multipart/form-data"} if target.multipart else {}
    return client.post_form(url, data, follow_redirects=target.follow, **kwargs)


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client(app, world, persona):
    from tests.conftest import TEST_PASSWORD

    client = app.test_client()
    if persona is not None:
        assert client.login(persona, TEST_PASSWORD).status_code == 302
    return client


@pytest.mark.timeout(600)
@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_bad_input_gets_a_clear_answer(app, world, target: Target):
    client = _client(app, world, target.persona)
    failures = []
    for row in target.rows:
        url, valid = target.setup(world, client)
        data = _apply(target, valid, row)
        before = target.saved(app) if target.saved else None
        response = _send(target, client, url, data)
        expected = target.ok if row.status is None else row.status
        if target.follow and expected == 302:
            expected = 200
        problems = []
        if response.status_code != expected:
            problems.append(f"status {response.status_code}, expected {expected}")
        body = response.get_data(as_text=True)
        if row.message and row.message not in body and row.message not in _text(body):
            problems.append(f"no “{row.message}” in the page")
        if response.status_code >= 500 or "Traceback" in body:
            problems.append("a server error")
        refused = row.status is not None and row.status != target.ok and row.message is not None
        if refused and target.saved and target.saved(app) != before:
            problems.append("something was saved")
        if refused and target.kept and not target.follow and target.kept != row.field:
            kept = str(valid.get(target.kept, ""))
            if kept and kept not in body and _escape(kept) not in body:
                problems.append(f"the {target.kept} typed was not kept")
        if problems:
            failures.append(f"{row.field} = {_shown(row.value)}: {'; '.join(problems)}")
    assert not failures, "\n".join(failures)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")


def _shown(value) -> str:
    if value is MISSING:
        return "(missing)"
    text = repr(value)
    return text if len(text) < 40 else f"{text[:30]}… ({len(str(value))} characters)"
