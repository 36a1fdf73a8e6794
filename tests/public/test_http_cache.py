"""HTTP caching of the anonymous public pages (portal.core.http_cache): an entity tag that a
write changes, 304 for a browser that holds the page, a cached page for the next visitor with
their own CSRF token, and nothing cached for signed-in users."""

import re

import pytest
import sqlalchemy as sa

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from tests.public.test_public_pages import public  # noqa: F401  (the published world)


def pages(public):  # noqa: F811
    inspection = public["inspection"]
    return [
        "/public/",
        f"/public/inspections/{inspection}",
        f"/public/items/{public['shown']}",
        f"/public/inspections/{inspection}/notice",
    ]


def csrf_of(html: str) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def statements(app, fetch):
    with app.app_context():
        engine = db.engine
    seen = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        response = fetch()
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # (the transaction's own BEGIN, which SQLite's driver is told to send, is not a query)
    return response, len([q for q in seen if q.strip().upper() not in ("BEGIN", "COMMIT", "ROLLBACK")])


def test_a_browser_holding_the_page_gets_304_until_a_write_changes_it(app, public):  # noqa: F811
    visitor = app.test_client()
    tags = {}
    for url in pages(public):
        first = visitor.get(url)
        assert first.status_code == 200 and first.headers["ETag"], url
        assert "no-cache" in first.headers["Cache-Control"] and first.headers["Last-Modified"]
        assert "Cookie" in first.headers["Vary"]
        tag = first.headers["ETag"]
        again, n = statements(app, lambda url=url, tag=tag: visitor.get(url, headers={"If-None-Match": tag}))
        assert again.status_code == 304 and again.data == b"", url
        assert n == 1, (url, n)  # the chain's head, nothing rendered
        tags[url] = tag

    # a write through an operation (a new public summary) changes every public page's tag
    with app.app_context():
        item = db.session.get(RectificationItem, public["shown"])
        update_document(Actor.system("test"), item, {"public_summary": "整改报告已在区政府网站公开。"})
        db.session.commit()
    for url in pages(public):
        after = visitor.get(url, headers={"If-None-Match": tags[url]})
        assert after.status_code == 200 and after.headers["ETag"] != tags[url], url
    assert "整改报告已在区政府网站公开。" in visitor.get(f"/public/items/{public['shown']}").text


def test_the_next_visitor_is_served_from_the_cache_with_their_own_token(app, public):  # noqa: F811
    url = f"/public/items/{public['shown']}"
    first, rendered = statements(app, lambda: app.test_client().get(url))
    other = app.test_client()
    second, cached = statements(app, lambda: other.get(url))
    assert first.status_code == second.status_code == 200
    assert cached < rendered and cached <= 2, (rendered, cached)  # the head (and the session's user)
    assert csrf_of(first.text) != csrf_of(second.text)
    assert "\x00" not in second.text
    # the cached page's form works for the visitor who got it
    token = re.search(r'id="fix-check".*?name="csrf_token" type="hidden" value="([^"]+)"', second.text, re.S)
    answered = other.post(
        f"/public/items/{public['shown']}/fixed", data={"csrf_token": token.group(1), "answer": "fixed"}
    )
    assert answered.status_code in (200, 302, 303), answered.status_code


def test_each_language_has_its_own_tag(app, public):  # noqa: F811
    visitor = app.test_client()
    zh = visitor.get("/public/")
    en = app.test_client().get("/public/?lang=en")
    assert zh.headers["ETag"] != en.headers["ETag"]
    assert zh.text != en.text


def test_signed_in_pages_are_never_cached(app, public, signed_in):  # noqa: F811
    office = signed_in("office")
    response = office.get("/public/")
    assert response.status_code == 200 and "ETag" not in response.headers


@pytest.mark.parametrize("missing", ["/public/items/999999", "/public/inspections/999999"])
def test_a_missing_page_is_a_404_and_is_not_kept(app, missing):
    visitor = app.test_client()
    assert visitor.get(missing).status_code == 404
    assert visitor.get(missing).status_code == 404


def test_without_the_page_cache_tags_and_304s_still_work(app, public):  # noqa: F811
    app.config["PUBLIC_PAGE_CACHE"] = False
    url = f"/public/items/{public['shown']}"
    visitor = app.test_client()
    first, rendered = statements(app, lambda: visitor.get(url))
    second, again = statements(app, lambda: app.test_client().get(url))
    assert first.headers["ETag"] == second.headers["ETag"] and again == rendered > 2  # rendered twice
    assert visitor.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
