"""The bell, the list, reading notifications, the e-mail preference — over HTTP."""

import re

import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.notifications.models import Notification
from portal.notifications.operations import notify
from portal.notifications.views import PAGE_SIZE
from tests.helpers import audit_actions


def bell(page: str) -> int:
    return int(re.search(r'data-unread="(\d+)"', page).group(1))


def unread_ids(app, world, persona) -> list[int]:
    with app.app_context():
        return db.session.scalars(
            sa.select(Notification.id)
            .where(Notification.user_id == world.users[persona], Notification.read_at.is_(None))
            .order_by(Notification.id)
        ).all()


def chase_n_times(app, world, item_id, n: int) -> None:
    with app.app_context():
        for i in range(n):
            notify([world.users["staff_resp"]], "chase", world.item(item_id), text=f"第{i + 1}次催办")
        db.session.commit()


def test_the_bell_counts_my_unread_with_one_query(app, world, signed_in):
    item_id = world.new_item()
    chase_n_times(app, world, item_id, 2)
    staff = signed_in("staff_resp")
    statements = []

    def seen(_conn, _cursor, statement, *_args):
        if "FROM notifications" in statement:
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        page = staff.get("/inspections/").text
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert bell(page) == len(unread_ids(app, world, "staff_resp")) == 3
    assert 'aria-label="通知：3 条未读"' in page
    assert len(statements) == 1 and "count" in statements[0].lower()
    assert bell(signed_in("office").get("/").text) == 0  # the office has none


def test_the_list_is_newest_first_paged_and_marks_unread(app, world, signed_in):
    item_id = world.new_item()
    chase_n_times(app, world, item_id, PAGE_SIZE + 4)  # plus the assignment: 25
    staff = signed_in("staff_resp")
    first = staff.get("/notifications").text
    ids = [int(i) for i in re.findall(r'data-notification="(\d+)"', first)]
    assert len(ids) == PAGE_SIZE and ids == sorted(ids, reverse=True)
    assert "第24次催办" in first and first.index("第24次催办") < first.index("第23次催办")
    assert first.count('data-unread="yes"') == PAGE_SIZE and "第 1 页，共 2 页" in first
    second = staff.get("/notifications?page=2").text
    rest = [int(i) for i in re.findall(r'data-notification="(\d+)"', second)]
    assert len(rest) == 5 and max(rest) < min(ids)
    assert "事项“加强科创中心产业用房管理”已交办给您。" in second
    assert f"/notifications/{ids[0]}/open" in first  # each row leads to its item


def test_mark_one_read_is_audited_once(app, world, signed_in):
    world.new_item()
    staff = signed_in("staff_resp")
    (nid,) = unread_ids(app, world, "staff_resp")
    response = staff.post_form(f"/notifications/{nid}/read")
    assert response.status_code == 302 and response.headers["Location"].endswith("/notifications")
    assert unread_ids(app, world, "staff_resp") == []
    assert staff.post_form(f"/notifications/{nid}/read").status_code == 302  # already read
    assert audit_actions(app).count("notification.read") == 1
    page = staff.get("/notifications").text
    assert 'data-unread="no"' in page and bell(page) == 0


def test_opening_marks_read_and_leads_to_the_item(app, world, signed_in):
    item_id = world.new_item()
    chase_n_times(app, world, item_id, 1)
    staff = signed_in("staff_resp")
    newest = unread_ids(app, world, "staff_resp")[-1]
    response = staff.post_form(f"/notifications/{newest}/open")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/items/{item_id}#timeline")
    assert newest not in unread_ids(app, world, "staff_resp")


def test_mark_all_read(app, world, signed_in):
    item_id = world.new_item()
    chase_n_times(app, world, item_id, 3)
    staff = signed_in("staff_resp")
    response = staff.post_form("/notifications/read-all", follow_redirects=True)
    assert "已将 4 条通知标为已读。" in response.text and bell(response.text) == 0
    again = staff.post_form("/notifications/read-all", follow_redirects=True)
    assert "没有未读通知。" in again.text
    assert audit_actions(app).count("notification.read_all") == 1


def test_nobody_reads_or_marks_another_users_notifications(app, world, signed_in):
    item_id = world.new_item()
    chase_n_times(app, world, item_id, 1)
    theirs = unread_ids(app, world, "staff_resp")
    other = signed_in("office")
    for nid in theirs:
        assert other.post_form(f"/notifications/{nid}/read").status_code == 404
        assert other.post_form(f"/notifications/{nid}/open").status_code == 404
    other.post_form("/notifications/read-all")
    page = other.get("/notifications").text
    assert "第1次催办" not in page and 'id="no-notifications"' in page
    assert unread_ids(app, world, "staff_resp") == theirs
    assert other.post_form("/notifications/999999/read").status_code == 404


def test_the_email_preference_on_the_account_page(app, world, signed_in):
    staff = signed_in("staff_resp")
    page = staff.get("/account").text
    assert 'id="notification-preference"' in page
    assert re.search(
        r'<input[^>]*checked[^>]*name="email_notifications"|name="email_notifications"[^>]*checked', page
    )
    response = staff.post_form("/account/notifications", {}, follow_redirects=True)  # unticked
    assert "今后不再通过电子邮件向您发送通知。" in response.text
    with app.app_context():
        assert world.user("staff_resp").email_notifications is False
    assert not re.search(r'name="email_notifications"[^>]*checked', response.text)
    staff.post_form("/account/notifications", {"email_notifications": "y"})
    with app.app_context():
        assert world.user("staff_resp").email_notifications is True
        events = db.session.scalars(
            sa.select(AuditEvent.payload).where(AuditEvent.action == "user.email_notifications")
        ).all()
    assert len(events) == 2


def test_a_notification_without_an_item_is_listed_as_text(app, world, signed_in):
    with app.app_context():
        notify([world.users["staff_resp"]], "chase", actor=Actor.of(world.user("office")), title="全局提醒")
        db.session.commit()
    page = signed_in("staff_resp").get("/notifications").text
    assert "事项“全局提醒”被催办。" in page and "来自 office" in page
