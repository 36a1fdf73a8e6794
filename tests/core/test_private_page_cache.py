"""Signed-in users' read pages from the page cache (portal.core.http_cache.private_page): kept
per user and per state of the data, so that a write through an operation shows at once, another
user never sees someone else's page, each session keeps its own CSRF token, and the permission
checks run on every request."""

import re
from datetime import timedelta

import pytest

from portal.accounts.operations import set_roles
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from tests.conftest import TEST_PASSWORD
from tests.helpers import count_statements
from tests.world import APPROVAL_SINGLE

#: the pages under private_page, with the persona that may read each
PAGES = {
    "home": ("/", "staff_resp"),
    "worklist": ("/worklists/my_items", "staff_resp"),
    "item": ("/items/{item}", "staff_resp"),
    "inspection": ("/inspections/{inspection}", "office"),
    "audit log": ("/audit/", "auditor"),
    "dashboard": ("/dashboard", "office"),
}


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def queries(app, fetch):
    with app.app_context():
        engine = db.engine
    with count_statements(engine) as seen:
        response = fetch()
    return response, [q for q in seen if q.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]


@pytest.fixture
def item_id(world):
    return world.new_item(state="in_progress")


def url_of(page: str, world, item_id: int) -> tuple[str, str]:
    template, persona = PAGES[page]
    return template.format(item=item_id, inspection=world.inspections[APPROVAL_SINGLE]), persona


@pytest.mark.parametrize("page", PAGES)
def test_a_page_read_again_is_served_from_the_cache_as_it_was_rendered(app, world, signed_in, item_id, page):
    url, persona = url_of(page, world, item_id)
    client = signed_in(persona)
    client.get("/")  # shows (and so ends) the "signed in" message: such a page is never kept
    first, rendered = queries(app, lambda: client.get(url))
    second, cached = queries(app, lambda: client.get(url))
    assert first.status_code == second.status_code == 200
    # the session's user and login session, the chain's head: nothing rendered
    assert len(cached) <= 3 < len(rendered), (len(rendered), cached)
    # the same page, with a token of this session's (signed afresh for each request)
    assert second.text.replace(csrf_of(second.text), "") == first.text.replace(csrf_of(first.text), "")
    assert second.headers["Cache-Control"] == "no-store"  # never kept outside the server


def test_a_write_through_an_operation_shows_at_once(app, world, signed_in, item_id):
    client = signed_in("staff_resp")
    assert "加强科创中心产业用房管理" in client.get(f"/items/{item_id}").text
    with app.app_context():
        item = db.session.get(RectificationItem, item_id)
        update_document(Actor.system("test"), item, {"title": "规范科创中心产业用房管理"})
        db.session.commit()
    page = client.get(f"/items/{item_id}").text
    assert "规范科创中心产业用房管理" in page and "加强科创中心产业用房管理" not in page
    world.fire("staff_resp", item_id, "submit")
    assert 'data-state="pending_review"' in client.get(f"/items/{item_id}").text


def test_another_user_never_gets_my_page(app, world, signed_in, item_id):
    mine = signed_in("staff_resp").get("/").text
    theirs = signed_in("dept_editor").get("/").text
    assert 'title="staff_resp"' in mine and 'title="dept_editor"' in theirs
    assert 'title="staff_resp"' not in theirs


def test_each_session_gets_its_own_token_and_may_post_with_it(app, world, item_id):
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        assert client.login("staff_resp", TEST_PASSWORD).status_code == 302
    url = f"/items/{item_id}"
    one, two = first.get(url).text, second.get(url).text
    assert csrf_of(one) != csrf_of(two)
    assert one.replace(csrf_of(one), "") == two.replace(csrf_of(two), "")
    # the cached page's forms carry the second session's own token: its POST is accepted
    answer = second.post(f"/items/{item_id}/evidence", data={"csrf_token": csrf_of(two), "note": "会议纪要"})
    assert answer.status_code == 302, answer.status_code
    assert "会议纪要" in second.get(url).text


def test_a_flashed_message_shows_once_and_is_never_kept(app, world, signed_in, item_id):
    client = signed_in("staff_resp")
    client.get(f"/items/{item_id}")
    client.post_form(f"/items/{item_id}/evidence", {"note": "整改台账"})  # flashes, redirects
    shown = client.get(f"/items/{item_id}").text
    assert 'role="alert"' in shown and "整改台账" in shown
    assert 'role="alert"' not in client.get(f"/items/{item_id}").text


def test_the_language_and_the_day_are_part_of_the_key(app, world, signed_in, item_id, monkeypatch):
    client = signed_in("staff_resp")
    assert 'lang="zh' in client.get("/").text
    client.post_form("/language", {"lang": "en", "next": "/"})
    assert 'lang="en"' in client.get("/").text
    _, cached = queries(app, lambda: client.get("/"))
    import portal.core.http_cache as http_cache

    with app.app_context():
        tomorrow = http_cache.today() + timedelta(days=1)
    monkeypatch.setattr(http_cache, "today", lambda: tomorrow)
    _, next_day = queries(app, lambda: client.get("/"))
    assert len(next_day) > len(cached)  # rendered again: deadlines are counted in days


def test_permissions_are_checked_on_every_request(app, world, signed_in, item_id):
    client = signed_in("office")
    assert client.get("/dashboard").status_code == 200
    with app.app_context():
        set_roles(Actor.system("test"), world.user("office"), ["staff"])
        db.session.commit()
    assert client.get("/dashboard").status_code == 403
    client.logout()
    assert client.get("/").status_code == 200 and 'id="login-link"' in client.get("/").text


def test_turned_off_every_page_is_rendered(app, world, signed_in, item_id):
    app.config["PRIVATE_PAGE_CACHE"] = False
    client = signed_in("staff_resp")
    _, first = queries(app, lambda: client.get(f"/items/{item_id}"))
    _, second = queries(app, lambda: client.get(f"/items/{item_id}"))
    assert len(second) > 3 and len(first) >= len(second)
