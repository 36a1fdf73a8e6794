"""Saved searches (Plone's Collections): saved from the search page, shown on the home page
with a count that follows the data, removed by their owner only, each step audited."""

from __future__ import annotations

from lxml import html

from portal.core.extensions import db
from portal.search.models import MAX_SAVED, SavedSearch
from tests.helpers import audit_actions, count_rows
from tests.search.conftest import make_item


def save(client, name: str, query: str):
    page = client.get(f"/search?{query}")
    (value,) = html.fromstring(page.text).xpath('//form[@id="save-search"]//input[@name="query"]/@value')
    return client.post_form("/search/saved", {"name": name, "query": value})


def cards(client) -> dict[str, int]:
    tree = html.fromstring(client.get("/").text)
    return {
        section.xpath("string(.//div[contains(@class,'card-header')]//a)"): int(
            section.xpath("string(.//*[@data-count]/@data-count)")
        )
        for section in tree.xpath("//section[@data-saved-search]")
    }


def test_a_saved_search_is_on_the_home_page_with_a_count_that_follows_the_data(app, signed_in, world, texts):
    office = signed_in("office")
    response = save(office, "公车问题", "q=公车")
    assert response.status_code == 302 and response.headers["Location"] == "/search?q=%E5%85%AC%E8%BD%A6"
    assert cards(office) == {"公车问题": 1}
    assert "search.saved" in audit_actions(app)
    with app.app_context():
        make_item(world, "公车加油卡管理")
        db.session.commit()
    assert cards(office) == {"公车问题": 2}
    tree = html.fromstring(office.get("/").text)
    (href,) = tree.xpath("//section[@data-saved-search]//a[@data-all]/@href")
    assert href == "/search?q=%E5%85%AC%E8%BD%A6"


def test_the_count_is_what_the_owner_may_see(signed_in, texts):
    staff = signed_in("staff_other")
    assert save(staff, "公车", "q=公车").status_code == 302
    assert cards(staff) == {"公车": 0}


def test_refused_saves_say_why_and_keep_the_input(app, signed_in, texts):
    office = signed_in("office")
    assert save(office, "公车问题", "q=公车").status_code == 302
    again = save(office, "公车问题", "q=公车&state=assigned")
    assert again.status_code == 400
    tree = html.fromstring(again.text)
    assert "公车问题" in tree.xpath(
        "string(//form[@id='save-search']//*[contains(@class,'invalid-feedback')])"
    )
    assert tree.xpath('//input[@id="name"]/@value') == ["公车问题"]
    assert tree.xpath('//input[@id="search-q"]/@value') == ["公车"]  # the search is still shown
    blank = save(office, "   ", "q=公车")
    assert blank.status_code == 400
    assert (
        html.fromstring(blank.text)
        .xpath("string(//form[@id='save-search']//*[contains(@class,'invalid-feedback')])")
        .strip()
    )
    nothing = office.post_form("/search/saved", {"name": "全部", "query": ""})
    assert nothing.status_code == 400
    assert count_rows(app, SavedSearch) == 1


def test_at_most_so_many_saved_searches(app, signed_in, texts):
    office = signed_in("office")
    for n in range(MAX_SAVED):
        assert save(office, f"检索{n}", f"q=公车{n}").status_code == 302
    assert save(office, "再一个", "q=公车").status_code == 400
    assert count_rows(app, SavedSearch) == MAX_SAVED


def test_only_the_owner_removes_a_saved_search(app, signed_in, texts):
    office, leader = signed_in("office"), signed_in("leader_resp")
    save(office, "公车问题", "q=公车")
    with app.app_context():
        saved_id = db.session.query(SavedSearch.id).scalar()
    assert leader.post_form(f"/search/saved/{saved_id}/delete", {}).status_code == 404
    assert count_rows(app, SavedSearch) == 1
    response = office.post_form(f"/search/saved/{saved_id}/delete", {"next": "/search?q=x"})
    assert response.status_code == 302 and response.headers["Location"] == "/search?q=x"
    assert count_rows(app, SavedSearch) == 0 and cards(office) == {}
    assert "search.removed" in audit_actions(app)


def test_saving_and_removing_need_the_csrf_token(signed_in, texts):
    office = signed_in("office")
    assert office.post("/search/saved", data={"name": "x", "query": "q=公车"}).status_code == 400
    assert office.post("/search/saved/1/delete").status_code == 400
