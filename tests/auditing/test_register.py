"""The audit log as a register: labels, names, the name and label filters, and the party group
leader who reads it (and may do nothing else there)."""

import json
import re
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditEvent
from portal.auditing import log, register
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.inspections.models import Measure, RectificationItem
from tests.helpers import count_writes

#: What a code looks like in the register's main column (an action or a dotted id).
CODE_LIKE = re.compile(r"[a-z_]+\.[a-z_]+")


@pytest.fixture
def app(demo_app):
    return demo_app


@pytest.fixture
def leader(app, client):
    assert client.login("leader", demo_password("leader")).status_code == 302
    return client


def seqs(response) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', response.get_data(as_text=True))]


def main_cells(response) -> list[str]:
    """The text of the register's main columns (time, person, action, object), row by row."""
    body = response.get_data(as_text=True)
    cells = re.findall(r'<td[^>]*data-main="\w+"[^>]*>(.*?)</td>', body, re.S)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


def rows_by_seq(response) -> dict[int, list[str]]:
    cells = main_cells(response)
    return dict(zip(seqs(response), (cells[i : i + 4] for i in range(0, len(cells), 4)), strict=True))


def db_seqs(app, *conditions) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(AuditEvent.seq).where(*conditions).order_by(AuditEvent.seq.desc()))
        )


# --- labels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_recorded_action_has_a_label_in_each_language(app, lang):
    """The suggestion list is kept complete against the demo (test_log_units); each of its
    actions reads as words, never as its code."""
    with app.test_request_context(f"/?lang={lang}"):
        labels = {code: register.action_label(code) for code in log.known_actions()}
    for code, label in labels.items():
        assert label and label != code and not CODE_LIKE.search(label), (code, label)
    if lang == "zh":
        assert labels["workflow.approve"] == "审核同意"
        assert labels["item.update"] == "修改"
        assert labels["auth.login_failed"] == "登录失败"
    else:
        assert labels["workflow.approve"] == "Approve"


def test_object_types_and_the_time_zone_have_names(app):
    with app.test_request_context("/"):
        assert [register.object_label(t) for t in log.OBJECT_TYPES] == [
            "巡察",
            "问题类别",
            "整改事项",
            "整改措施",
            "意见建议",
            "账号",
            "部门",
            "用户名",
            "审计日志",
            "通报预览",
            "通知",
            "延期申请",
        ]
        assert register.zone_label() == "北京时间 UTC+8"
    with app.test_request_context("/?lang=en"):
        assert register.zone_label() == "Beijing time UTC+8"


def test_names_are_shortened_with_an_ellipsis():
    assert register.shorten("加强" * 20) == "加强" * 11 + "加…"
    assert len(register.shorten("加强" * 20)) == register.NAME_LENGTH
    assert register.shorten("短  名\n称") == "短 名 称"


# --- the person and action filters ----------------------------------------------------------

PEOPLE = [
    register.Person(1, "zhangsan", "张三"),
    register.Person(2, "zhangsanfeng", "张三丰"),
    register.Person(3, "lisi", "李四"),
]


def test_person_filter_takes_a_login_a_name_or_part_of_one(app):
    with app.test_request_context("/"):
        assert register.match_actor("zhangsan", PEOPLE).logins == ("zhangsan",)  # a login exactly
        assert register.match_actor("ZhangSan ", PEOPLE).logins == ("zhangsan",)
        assert register.match_actor("李四", PEOPLE) == register.ActorMatch(("lisi",), ("李四",))
        several = register.match_actor("张三", PEOPLE)  # a name two people share in part
        assert several.logins == ("zhangsan", "zhangsanfeng") and several.several
        assert several.names == ("张三", "张三丰")
        assert register.match_actor("公众", PEOPLE).logins == ("anonymous",)  # the system actors
        assert register.match_actor("anonymous", PEOPLE).logins == ("anonymous",)
        assert register.match_actor("cli:root", PEOPLE).logins == ("cli:root",)  # as recorded
        assert register.match_actor("王五", PEOPLE).logins == ("王五",)


def test_action_filter_takes_a_code_or_a_label_in_the_users_language(app):
    with app.test_request_context("/"):
        assert register.match_action("workflow.approve") == ("workflow.approve",)
        assert register.match_action("审核同意") == ("workflow.approve",)
        assert register.match_action(" 登录失败 ") == ("auth.login_failed",)
        # one label for several actions: all of them (publishing an item and a feedback)
        assert register.match_action("公开") == ("moderation.publish", "workflow.publish")
        assert set(register.match_action("新建")) >= {"item.create", "measure.create", "inspection.create"}
        assert register.match_action("佐证") == ("evidence.add", "evidence.withdraw")  # part of a label
        assert register.match_action("Approve") == ()  # English labels are for English pages
        assert register.match_action("test.clock") == ("test.clock",)  # written as a code
        assert register.match_action("飞船起飞") == ()
    with app.test_request_context("/?lang=en"):
        assert register.match_action("approve") == ("workflow.approve",)


def test_a_filter_of_several_values_is_searched_in_bounded_stretches():
    assert not log.LogFilter(actor="staff", actors=("staff",)).needs_scan()
    assert log.LogFilter(actor="张", actors=("a", "b")).needs_scan()
    assert log.LogFilter(action="公开", actions=("moderation.publish", "workflow.publish")).needs_scan()
    # what was typed is what links, forms and the export's record carry
    f = log.LogFilter(actor="张三", actors=("zhangsan", "zhangsanfeng"), action="公开", actions=("x.y",))
    assert f.as_args() == {"actor": "张三", "action": "公开"}
    assert f == log.LogFilter(actor="张三", action="公开")


# --- names ----------------------------------------------------------------------------------


def fake(seq, object_type, object_id, payload=None, action="item.update", actor="staff", actor_id=None):
    return SimpleNamespace(
        seq=seq,
        action=action,
        actor=actor,
        actor_id=actor_id,
        object_type=object_type,
        object_id=str(object_id),
        payload=json.dumps(payload or {}, ensure_ascii=False),
    )


def test_names_come_from_the_documents_in_one_query_per_type(app):
    from portal.accounts.models import User

    with app.test_request_context("/"):
        items = db.session.execute(sa.select(RectificationItem.id, RectificationItem.title).limit(3)).all()
        measure = db.session.scalar(sa.select(Measure).where(Measure.label != "").limit(1))
        leader, staff = (
            db.session.scalar(sa.select(User).where(User.login == login)) for login in ("leader", "staff")
        )
        people = register.people()
        events = [
            fake(i, "item", item_id, actor_id=staff.id) for i, (item_id, _title) in enumerate(items * 10)
        ]
        events += [
            fake(100, "measure", measure.id),
            fake(101, "item", 99999, {"title": "已不存在的事项"}),  # gone: named from the payload
            fake(102, "category", 99999),  # gone, nothing to name it by
            fake(103, "user", leader.id, action="auth.login", actor="leader", actor_id=leader.id),
            fake(104, "login", "nobody", action="auth.login_failed", actor="anonymous"),
            fake(105, "audit", "export", {"format": "csv"}, action="audit.export"),
            fake(106, "spaceship", "x1", action="test.clock", actor="cli:root"),
        ]
        from portal.core.filters import Who

        Who.of(leader)  # the leader's grants, read once per request (not per type)
        seen = []

        def listener(_conn, _cursor, statement, *_args):
            seen.append(statement)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            entries = register.entries(events, people, leader, auditor=False)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        # 33 events about items, a measure, a category, an account …: one query per document type
        assert len(seen) == 3, seen
        by_seq = {e.event.seq: e for e in entries}
        assert (by_seq[0].actor, by_seq[0].action) == ("李强（经办人）", "修改")
        assert by_seq[0].object.kind == "整改事项" and by_seq[0].object.name == items[0].title
        assert by_seq[0].object.url == f"/items/{items[0].id}"  # the leader reads the item page
        assert by_seq[100].object.name == f"{measure.label}{measure.text}"
        assert by_seq[100].object.url == f"/items/{measure.item_id}"
        assert (by_seq[101].object.name, by_seq[101].object.url) == ("已不存在的事项", None)
        assert by_seq[102].object.name == "#99999"
        assert (by_seq[103].actor, by_seq[103].action, by_seq[103].object.name) == (
            "刘明（党组书记）",
            "登录",
            "刘明（党组书记）",
        )
        assert (by_seq[104].actor, by_seq[104].object.kind, by_seq[104].object.name) == (
            "公众",
            "用户名",
            "nobody",
        )
        assert (by_seq[105].object.kind, by_seq[105].object.name) == ("审计日志", "CSV")
        assert (by_seq[106].actor, by_seq[106].action, by_seq[106].object.name) == (
            "命令行（root）",
            "test.clock",  # an action nobody labelled is shown as recorded
            "#x1",
        )
        auditor_view = register.entries(events[:1], people, leader, auditor=True)
        assert auditor_view[0].object.url == f"/audit/items/{items[0].id}"  # the complete history


# --- the register through HTTP, as the party group leader reads it ---------------------------


def test_leader_reads_the_register_in_chinese_names_first(app, leader):
    response = leader.get("/audit/")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="zh-CN">' in body
    assert '<th title="时间（北京时间 UTC+8）">时间<div' in body
    assert "data-zone>北京时间 UTC+8</div>" in body
    rows = rows_by_seq(response)
    assert len(rows) == log.PAGE_SIZE
    for cells in rows.values():
        assert re.fullmatch(r"\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d", cells[0]), cells
        for cell in cells:
            assert not CODE_LIKE.search(cell), cells
    # an approval reads as a sentence: who, what, which item; its codes come after, in small print
    with app.app_context():
        approval = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "workflow.approve").order_by(AuditEvent.seq)
        )
        title = db.session.get(RectificationItem, int(approval.object_id)).title
    cells = rows_by_seq(leader.get(f"/audit/?before={approval.seq + 1}"))[approval.seq]
    assert cells[1:] == ["刘明（党组书记）", "审核同意", f"整改事项「{register.shorten(title)}」"]
    row = body_row(leader.get(f"/audit/?before={approval.seq + 1}"), approval.seq)
    assert row.index('data-main="object"') < row.index("data-codes") < row.index(">workflow.approve</code>")
    assert f'href="/items/{approval.object_id}" title="{title}" data-object-link' in row
    # what only auditors do is not offered
    assert 'id="exports"' not in body and "/audit/export" not in body
    assert "/audit/verify" not in body and "/audit/items/" not in body


def body_row(response, seq) -> str:
    body = response.get_data(as_text=True)
    row = body[body.index(f'<tr data-seq="{seq}"') :]
    return row[: row.index("</tr>\n</tr>") if "</tr>\n</tr>" in row else row.index("\n</tr>")]


def test_leader_reads_the_register_in_english_too(app, leader):
    with app.app_context():
        seq = db.session.scalar(
            sa.select(sa.func.max(AuditEvent.seq)).where(AuditEvent.action == "workflow.approve")
        )
    cells = rows_by_seq(leader.get(f"/audit/?lang=en&before={seq + 1}"))[seq]
    assert cells[2] == "Approve" and cells[3].startswith("Item「")


def test_leader_filters_by_a_persons_name(app, leader):
    expected = db_seqs(app, AuditEvent.actor == "staff")[: log.PAGE_SIZE]
    for typed in ("李强（经办人）", "李强", "staff"):
        response = leader.get(f"/audit/?actor={typed}")
        assert seqs(response) == expected, typed
        assert f'value="{typed}"' in response.get_data(as_text=True)  # kept as typed
        assert 'id="actor-matches"' not in response.get_data(as_text=True)
    # the datalist suggests people by name
    assert '<option value="李强（经办人）">staff</option>' in leader.get("/audit/").get_data(as_text=True)


def test_a_name_several_people_share_filters_by_all_of_them_and_says_so(app, leader, make_user):
    from tests.conftest import TEST_PASSWORD

    for login, name in (("zhangsan", "张三"), ("zhangsanfeng", "张三丰")):
        make_user(login, "staff", display_name=name)
        other = app.test_client()
        assert other.login(login, TEST_PASSWORD).status_code == 302
    response = leader.get("/audit/?actor=张三")
    body = response.get_data(as_text=True)
    assert seqs(response) == db_seqs(app, AuditEvent.actor.in_(["zhangsan", "zhangsanfeng"]))
    assert "“张三”匹配 2 人：张三、张三丰。下面显示他们全部的记录。" in body
    assert {cells[1] for cells in rows_by_seq(response).values()} == {"张三", "张三丰"}
    # and the exact login still means that one person
    assert seqs(leader.get("/audit/?actor=zhangsan")) == db_seqs(app, AuditEvent.actor == "zhangsan")


def test_leader_filters_by_an_action_label(app, leader):
    response = leader.get("/audit/?action=审核同意")
    assert seqs(response) == db_seqs(app, AuditEvent.action == "workflow.approve")[: log.PAGE_SIZE]
    assert 'value="审核同意"' in response.get_data(as_text=True)
    assert seqs(leader.get("/audit/?action=workflow.approve")) == seqs(response)
    # a label two actions share: both, and the page says so
    shared = leader.get("/audit/?action=公开")
    expected = db_seqs(app, AuditEvent.action.in_(["workflow.publish", "moderation.publish"]))
    assert expected and seqs(shared) == expected[: log.PAGE_SIZE]
    assert "“公开”对应 2 种操作：公开。下面全部显示。" in shared.get_data(as_text=True)
    # combined with the object type, the label picks the feedback's
    feedback = leader.get("/audit/?action=公开&object_type=feedback")
    assert seqs(feedback) == db_seqs(
        app, AuditEvent.action == "moderation.publish", AuditEvent.object_type == "feedback"
    )


def test_an_unknown_action_gets_a_chinese_message_and_keeps_what_was_typed(leader):
    response = leader.get("/audit/?action=飞船起飞&actor=李强")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and seqs(response) == []
    assert 'id="filter-invalid"' in body
    assert "没有名为“飞船起飞”的操作" in body
    assert 'value="飞船起飞"' in body and 'value="李强"' in body


def test_the_leader_reads_and_writes_nothing(app, leader):
    """GET pages only, and no write even then; exports, the checker, verification and the
    complete history stay the auditors'."""
    with app.app_context():
        item_id = db.session.scalar(sa.select(RectificationItem.id).limit(1))
        engine = db.engine
    with count_writes(engine) as writes:
        for url in ("/audit/", "/audit/?actor=李强&action=修改", "/audit/?action=公开", "/audit/?before=50"):
            assert leader.get(url).status_code == 200, url
        for url in ("/audit/verify", "/audit/verify-script", f"/audit/items/{item_id}"):
            assert leader.get(url).status_code == 403, url
        for url, data in (("/audit/export", {"format": "csv"}), ("/audit/verify", {"scope": "all"})):
            assert leader.post_form(url, data).status_code == 403, url
    assert writes == []


def test_the_auditor_reads_the_same_register_with_the_workspace_links(app, client):
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    with app.app_context():
        approval = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "workflow.approve"))
    response = client.get(f"/audit/?before={approval.seq + 1}")
    assert rows_by_seq(response)[approval.seq][1:3] == ["刘明（党组书记）", "审核同意"]
    row = body_row(response, approval.seq)
    assert f'href="/audit/items/{approval.object_id}"' in row
    body = response.get_data(as_text=True)
    assert 'id="exports"' in body and "/audit/verify" in body


def test_the_export_takes_the_same_names_and_labels(app, client):
    import csv
    import io

    assert client.login("auditor", demo_password("auditor")).status_code == 302
    response = client.post_form("/audit/export", {"format": "csv", "actor": "李强", "action": "修改"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    edits = [f"{kind}.update" for kind in ("inspection", "category", "item", "measure")]
    expected = db_seqs(app, AuditEvent.actor == "staff", AuditEvent.action.in_(edits))
    assert expected and [int(r["seq"]) for r in rows] == sorted(expected)
    with app.app_context():
        record = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "audit.export").order_by(AuditEvent.seq.desc())
        )
    assert json.loads(record.payload)["filter"] == {"actor": "李强", "action": "修改"}  # as typed
