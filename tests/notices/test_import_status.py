"""Status hints applied on import (issue 17, point 3): an item whose notice states completion or
phased completion starts in that state, through the workflow engine, each step citing its line;
the preview shows each state and the office can change it. Also the .docx and .pdf uploads."""

import io
import json
import re

import pytest
import sqlalchemy as sa

from portal.audit.chain import verify_chain
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.core.models import WorkflowHistory
from portal.inspections.models import Inspection, Measure, RectificationItem
from portal.notices.parser import parse
from portal.notices.status import START_STATES, completion_summary, state_for, status_hints
from tests.notices.test_formats import make_docx, make_pdf
from tests.notices.test_import_page import imported_count, preview_data, token_of, upload_text

STATUS_NOTICE = "\n".join(
    [
        "中共某局党组关于巡察整改情况的通报",  # 1
        "根据区委统一部署,2021年3月1日至4月30日,区委第三巡察组对某局党组开展了巡察。",  # 2
        "一、整改工作开展情况",  # 3
        "成立整改工作领导小组。",  # 4
        "二、整改落实情况",  # 5
        "(一)已整改完成的问题",  # 6
        "1.资金管理不规范",  # 7
        "整改情况:一是建立资金台账。二是开展专项审计。",  # 8
        "2.制度建设不健全",  # 9
        "整改情况:一是修订制度5项。二是组织学习。",  # 10
        "整改状态:阶段性完成",  # 11
        "(二)正在整改的问题",  # 12
        "3.档案管理混乱",  # 13
        "整改情况:一是整理历年档案。",  # 14
        "4.队伍建设滞后",  # 15
        "整改状态:未完成",  # 16
    ]
)
#: (title, status the parser reads, state the item starts in, the line that says so)
EXPECTED = [
    ("资金管理不规范", "completed", "completed", (6, "(一)已整改完成的问题")),
    ("制度建设不健全", "partial", "in_progress", (11, "整改状态:阶段性完成")),
    ("档案管理混乱", "in_progress", "in_progress", (12, "(二)正在整改的问题")),
    ("队伍建设滞后", "planned", "assigned", (16, "整改状态:未完成")),
]


_STATE = re.compile(r'<select[^>]*name="(categories-\d+-problems-\d+-state)"[^>]*>(.*?)</select>', re.S)


def shown_states(response) -> dict[str, str]:
    """The state each row's select shows (what the browser posts back if nothing is changed)."""
    found = {}
    for name, options in _STATE.findall(response.text):
        (found[name],) = re.findall(r'<option selected value="([^"]+)"', options)
    return found


def confirm_data(response, text, **changes):
    """What the preview form posts when the office changes nothing but `changes`."""
    return preview_data(token_of(response), text, **{**shown_states(response), **changes})


def items_of(app):
    with app.app_context():
        inspection = db.session.scalar(sa.select(Inspection).where(Inspection.source_sha256.is_not(None)))
        rows = db.session.scalars(
            sa.select(RectificationItem)
            .where(RectificationItem.inspection_id == inspection.id)
            .order_by(RectificationItem.id)
        ).all()
        return [(i.id, i.title, i.state, i.completion_summary) for i in rows]


def history_of(app, item_id):
    with app.app_context():
        return [
            (h.action, h.from_state, h.to_state, h.comment)
            for h in db.session.scalars(
                sa.select(WorkflowHistory)
                .where(WorkflowHistory.object_type == "item", WorkflowHistory.object_id == item_id)
                .order_by(WorkflowHistory.id)
            )
        ]


def events_of(app, action, item_id=None):
    with app.app_context():
        query = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
        if item_id is not None:
            query = query.where(AuditEvent.object_id == str(item_id))
        return [json.loads(e.payload) for e in db.session.scalars(query)]


# --- the hints (pure) -------------------------------------------------------------------------


def test_each_status_maps_to_a_start_state():
    assert [state_for(s) for s in ("completed", "partial", "in_progress", "planned", None)] == [
        "completed",
        "in_progress",
        "in_progress",
        "assigned",
        "assigned",
    ]
    assert START_STATES == ("assigned", "in_progress", "completed")


def test_hints_find_the_line_that_states_each_status():
    parsed = parse(STATUS_NOTICE)
    hints = status_hints(parsed, STATUS_NOTICE)
    found = [
        (p.title, hints[id(p)].status, hints[id(p)].state, [(s.number, s.text) for s in hints[id(p)].sources])
        for p in parsed.problems
    ]
    assert found == [(title, status, state, [line]) for title, status, state, line in EXPECTED]
    assert completion_summary(parsed.problems[0]) == "一是建立资金台账。二是开展专项审计。"
    assert completion_summary(parsed.problems[3]) == ""  # no 整改情况 text


def test_hints_count_lines_as_uploaded_with_crlf_and_full_width_punctuation():
    text = "\r\n\r\n" + STATUS_NOTICE.replace("整改状态:阶段性完成", "整改状态：阶段性完成").replace(
        "\n", "\r\n"
    )
    parsed = parse(text)
    hint = status_hints(parsed, text)[id(parsed.problems[1])]
    assert [(s.number, s.text) for s in hint.sources] == [(13, "整改状态：阶段性完成")]


def test_a_status_in_a_heading_and_in_sub_problems():
    text = (
        "中共某局党组关于巡察整改情况的通报\n二、整改落实情况\n(一)党建方面\n1.学习不深入(已完成)\n"
        "一是开展学习。\n2.制度执行不严\n(1)缺台账\n整改状态:完成\n(2)缺凭证\n整改状态:阶段性完成"
    )
    parsed = parse(text)
    hints = status_hints(parsed, text)
    first, second = (hints[id(p)] for p in parsed.problems)
    assert (first.state, [(s.number, s.text) for s in first.sources]) == (
        "completed",
        [(4, "1.学习不深入(已完成)")],
    )
    assert second.status == "partial" and [s.number for s in second.sources] == [8, 10]


# --- the web import -----------------------------------------------------------------------------


def test_the_preview_shows_each_state_and_the_import_applies_it(app, world, signed_in, runner):
    office = signed_in("office")
    response = upload_text(office, STATUS_NOTICE)
    assert response.status_code == 200
    page = response.text
    assert page.count("data-problem-row") == 4 and "导入后状态" in page
    for i, (_title, _status, state, (line, _text)) in enumerate(EXPECTED):
        assert f'<option selected value="{state}">' in page.split("data-problem-row")[i + 1], state
        if state != "assigned" or line:
            assert f"第{line}行" in page
    assert 'data-stated="completed"' in page and "通报：已完成" in page

    response = office.post_form("/inspections/import/confirm", confirm_data(response, STATUS_NOTICE))
    assert response.status_code == 302, response.text
    items = items_of(app)
    assert [(title, state) for _id, title, state, _summary in items] == [(t, s) for t, _st, s, _l in EXPECTED]
    done, partial, ongoing, planned = items
    assert done[3] == "一是建立资金台账。二是开展专项审计。"  # the notice's 整改情况 as completion summary
    assert partial[3] == ""
    with app.app_context():
        statuses = db.session.scalars(sa.select(Measure.status).where(Measure.item_id == done[0])).all()
        assert statuses == ["done", "done"]
        assert db.session.scalars(sa.select(Measure.status).where(Measure.item_id == partial[0])).all() == [
            "open",
            "open",
        ]
        assert db.session.get(RectificationItem, done[0]).follow_up_due_on is not None  # 回头看 scheduled
        assert verify_chain().ok
    # the history replayed reaches the stored items, measures and follow-up dates (reconciliation)
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # one step each, through the pipeline: history entry and audit event citing the line
    assert history_of(app, done[0]) == [
        ("import_completed", "assigned", "completed", "依通报所述：第6行‘(一)已整改完成的问题’")
    ]
    assert history_of(app, partial[0]) == [
        ("import_in_progress", "assigned", "in_progress", "依通报所述：第11行‘整改状态:阶段性完成’")
    ]
    assert history_of(app, ongoing[0])[0][:3] == ("import_in_progress", "assigned", "in_progress")
    assert history_of(app, planned[0]) == []
    (event,) = events_of(app, "workflow.import_completed", done[0])
    assert event["transition"] == "import_completed" and "第6行" in event["comment"]
    assert [e["item_id"] for e in events_of(app, "measure.done")] == [done[0], done[0]]
    (imported,) = events_of(app, "notice.import")
    stated = {row["item_id"]: row for row in imported["states"]}
    assert stated[done[0]]["sources"] == [{"line": 6, "text": "(一)已整改完成的问题"}]
    assert stated[planned[0]] == {
        "item_id": planned[0],
        "status": "planned",
        "stated_state": "assigned",
        "state": "assigned",
        "sources": [{"line": 16, "text": "整改状态:未完成"}],
    }


def test_the_office_changes_a_state_in_the_preview(app, world, signed_in):
    office = signed_in("office")
    shown = upload_text(office, STATUS_NOTICE)
    changes = {
        "categories-0-problems-0-state": "assigned",  # the notice says completed
        "categories-1-problems-1-state": "completed",  # the notice says not completed
        "categories-1-problems-0-keep": "",  # dropped: the rows after it keep their states
    }
    data = confirm_data(shown, STATUS_NOTICE, **changes)
    del data["categories-1-problems-0-keep"]
    assert office.post_form("/inspections/import/confirm", data).status_code == 302
    items = items_of(app)
    assert [(title, state) for _id, title, state, _s in items] == [
        ("资金管理不规范", "assigned"),
        ("制度建设不健全", "in_progress"),
        ("队伍建设滞后", "completed"),
    ]
    assert history_of(app, items[0][0]) == []
    assert history_of(app, items[2][0]) == [
        (
            "import_completed",
            "assigned",
            "completed",
            "由巡察整改办在导入预览中选定；通报所述：第16行‘整改状态:未完成’",
        )
    ]


def test_a_bad_state_is_refused_in_chinese_and_nothing_is_lost(app, world, signed_in):
    office = signed_in("office")
    shown = upload_text(office, STATUS_NOTICE)
    token = token_of(shown)
    data = confirm_data(
        shown,
        STATUS_NOTICE,
        **{
            "categories-0-problems-1-state": "pending_review",
            "categories-0-problems-0-title": "资金管理不规范问题",
        },
    )
    response = office.post_form("/inspections/import/confirm", data)
    assert response.status_code == 400
    assert "导入的整改事项只能以已交办、整改中或已完成状态开始，请从中选择。" in response.text
    assert 'value="资金管理不规范问题"' in response.text  # the correction is kept
    assert token_of(response) == token and imported_count(app) == 0
    data["categories-0-problems-1-state"] = "in_progress"
    assert office.post_form("/inspections/import/confirm", data).status_code == 302
    assert items_of(app)[0][1:3] == ("资金管理不规范问题", "completed")


@pytest.mark.parametrize(("name", "make"), [("通报.docx", make_docx), ("通报.pdf", make_pdf)])
def test_docx_and_pdf_uploads(app, world, signed_in, name, make):
    office = signed_in("office")
    response = office.post_form(
        "/inspections/import",
        {"file": (io.BytesIO(make(STATUS_NOTICE)), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.text
    assert response.text.count("data-problem-row") == 4 and "资金管理不规范" in response.text
    text = response.text
    assert 'data-stated="completed"' in text and 'data-stated="in_progress"' in text


def test_an_unreadable_document_is_explained(world, signed_in):
    office = signed_in("office")
    for content, name, message in (
        (make_pdf(STATUS_NOTICE)[:200], "a.pdf", "无法读取该文件"),
        (b"\xd0\xcf\x11\xe0 old word", "a.doc", ".docx"),
    ):
        response = office.post_form(
            "/inspections/import", {"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
        )
        assert response.status_code == 200 and message in response.text, name
    assert "通报文件（.txt、.docx 或带文字层的 .pdf）" in office.get("/inspections/import").text


# --- the CLI -------------------------------------------------------------------------------------


def test_cli_applies_the_states_as_an_office_account(app, world, runner, tmp_path):
    path = tmp_path / "notice.docx"
    path.write_bytes(make_docx(STATUS_NOTICE))
    with app.app_context():
        login = world.user("office").login
    result = runner.invoke(args=["notice", "import", str(path), "--office", login])
    assert result.exit_code == 0, result.output
    assert [state for _i, _t, state, _s in items_of(app)] == [s for _t, _st, s, _l in EXPECTED]


def test_cli_without_office_leaves_items_assigned_and_says_so(app, world, runner, tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text(STATUS_NOTICE, encoding="utf-8")
    result = runner.invoke(args=["notice", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "states 3 items as completed or under way" in result.output
    assert {state for _i, _t, state, _s in items_of(app)} == {"assigned"}
    staff = runner.invoke(args=["notice", "import", str(path), "--office", "nobody-here"])
    assert staff.exit_code != 0 and "no office account" in staff.output


def test_cli_refuses_a_notice_over_the_limit(app, runner, tmp_path):
    path = tmp_path / "long.txt"
    path.write_text(STATUS_NOTICE + "\n" + "说明" * 50_000, encoding="utf-8")
    result = runner.invoke(args=["notice", "import", str(path)])
    assert result.exit_code != 0
    assert (
        f"too long ({len(STATUS_NOTICE) + 100_001:,} characters): at most 100,000 characters" in result.output
    )
    assert imported_count(app) == 0


def test_a_step_quotes_a_few_lines_and_the_event_keeps_them_all(app, world):
    from portal.audit.chain import Actor
    from portal.notices.operations import import_notice, notice_states

    subs = "\n".join(f"({n})缺台账{n}\n整改状态:完成" for n in range(1, 13))
    text = f"中共某局党组关于巡察整改情况的通报\n二、整改落实情况\n(一)党建方面\n1.制度执行不严\n{subs}"
    with app.test_request_context():  # the default locale, as a request from the office
        parsed = parse(text)
        hints = status_hints(parsed, text)
        office = Actor.of(world.user("office"))
        import_notice(office, parsed, text, states=notice_states(parsed, hints), hints=hints)
        db.session.commit()
    ((item_id, _title, state, _summary),) = items_of(app)
    ((action, _from, _to, comment),) = history_of(app, item_id)
    assert (state, action) == ("completed", "import_completed")
    assert comment.count("整改状态:完成") == 8 and comment.endswith("；…")
    (imported,) = events_of(app, "notice.import")
    assert [s["line"] for s in imported["states"][0]["sources"]] == list(range(6, 29, 2))
