"""Search through the test client: what is found, for whom, narrowed, sorted and paged.

These run on SQLite and, in CI's second leg, on PostgreSQL (DATABASE_URL): the same
assertions hold on both. test_both_databases.py compares the two directly.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from lxml import html

from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.operations import withdraw_evidence
from portal.inspections.models import RectificationItem as Item
from portal.inspections.operations import update_document
from tests.search.conftest import make_item, publish_feedback


def found(response) -> list[int]:
    assert response.status_code == 200, response.text[:500]
    tree = html.fromstring(response.text)
    return [int(li.get("data-item")) for li in tree.xpath('//ol[@id="search-results"]/li')]


def total(response) -> int:
    return int(html.fromstring(response.text).xpath('//*[@id="search-total"]/@data-total')[0])


def problems(response) -> list[str]:
    return [
        " ".join(e.text_content().split())
        for e in html.fromstring(response.text).xpath("//*[@data-search-problem]")
    ]


@pytest.mark.parametrize(
    ("query", "which", "kind"),
    [
        ("公车", "car", "title"),
        ("台账", "car", "completion"),
        ("派遣", "car", "measure"),
        ("登记", "car", "evidence"),
        ("闲置", "room", "finding"),
        ("私用", "car", "feedback"),
        ("纪要", "minutes", "title"),
        ("用房管理", "room", "title"),
    ],
)
def test_two_character_terms_are_found_in_every_kind_of_text(signed_in, texts, query, which, kind):
    response = signed_in("office").get("/search", query_string={"q": query})
    assert found(response) == [getattr(texts, which)]
    tree = html.fromstring(response.text)
    if kind != "title":
        (snippet,) = tree.xpath(f'//li[@data-item="{getattr(texts, which)}"]//*[@data-kind="{kind}"]')
        assert query in "".join(snippet.xpath(".//mark/text()"))
    else:
        assert query in "".join(tree.xpath("//ol[@id='search-results']//a//mark/text()"))


def test_every_term_must_be_found_and_words_by_their_beginning(signed_in, texts):
    office = signed_in("office")
    assert found(office.get("/search?q=公车 台账")) == [texts.car]
    assert found(office.get("/search?q=公车 纪要")) == []
    assert found(office.get("/search?q=管理")) == [texts.car, texts.room]  # deadline first, then none


def test_the_permission_filter_applies_to_items_and_to_feedback(signed_in, texts):
    assert found(signed_in("staff_other").get("/search?q=公车")) == []  # no role on the item
    assert found(signed_in("staff_resp").get("/search?q=公车")) == [texts.car]
    # leaders read items, not the public's unmoderated feedback (the office and auditors do)
    assert found(signed_in("leader_resp").get("/search?q=私用")) == []
    assert found(signed_in("auditor").get("/search?q=私用")) == [texts.car]


def test_the_public_finds_published_items_by_what_their_page_shows(app, client, world, texts):
    assert found(client.get("/public/search?q=公车")) == [texts.car]
    assert found(client.get("/public/search?q=登记入册")) == [texts.car]  # the public summary
    assert found(client.get("/public/search?q=台账")) == []  # the internal completion summary
    assert found(client.get("/public/search?q=闲置")) == []  # a private item
    assert found(client.get("/public/search?q=私用")) == []  # feedback awaiting moderation
    publish_feedback(app, world, texts.feedback)
    assert found(client.get("/public/search?q=私用")) == [texts.car]
    response = client.get("/public/search?q=公车")
    assert f'href="/public/items/{texts.car}"' in response.text
    assert "/items/" + str(texts.car) + '"' not in response.text.replace("/public/items/", "")


def test_the_index_follows_each_write_and_no_rolled_back_one(app, signed_in, world, texts):
    office = signed_in("office")
    with app.app_context():
        update_document(Actor.system("test"), world.item(texts.minutes), {"title": "党组会议记录缺失"})
        db.session.commit()
    assert found(office.get("/search?q=纪要")) == []
    assert found(office.get("/search?q=记录缺失")) == [texts.minutes]
    with app.app_context():
        evidence = db.session.query(Evidence).filter_by(item_id=texts.car).one()
        withdraw_evidence(Actor.system("test"), evidence, world.item(texts.car))
        db.session.commit()
    assert found(office.get("/search?q=登记表")) == []
    with app.app_context():
        make_item(world, "新增的问题：食堂采购")
        db.session.rollback()
    assert found(office.get("/search?q=食堂")) == []
    with app.app_context():
        new = make_item(world, "新增的问题：食堂采购")
        db.session.commit()
    assert found(office.get("/search?q=食堂")) == [new]


def test_facets_count_and_narrow(signed_in, texts):
    office = signed_in("office")
    response = office.get("/search?q=管理")
    tree = html.fromstring(response.text)
    states = {a.get("data-facet-value") for a in tree.xpath('//*[@data-facet="state"]//a')}
    assert states == {"assigned"}  # both items found are assigned
    narrowed = office.get("/search?q=会议&state=in_progress")
    assert found(narrowed) == [texts.minutes]
    assert found(office.get("/search?q=会议&state=assigned")) == []
    assert found(office.get("/search?q=管理&due_to=2027-01-01")) == [texts.car]
    assert found(office.get("/search?due_from=2027-01-01")) == [texts.minutes]


def test_the_facet_counts_leave_their_own_facet_open(signed_in, texts):
    response = signed_in("office").get("/search?state=in_progress")
    assert found(response) == [texts.minutes]
    tree = html.fromstring(response.text)
    (facet,) = tree.xpath('//*[@data-facet="state"]')
    others = {
        a.get("data-facet-value"): a.getparent().xpath("string(span)")
        for a in facet.xpath(".//a[@data-facet-value]")
    }
    assert others == {"assigned": "2"}
    (chosen,) = facet.xpath(".//a[@data-facet-clear]")
    assert chosen.text_content().split()[-1] == "1"
    assert found(signed_in("office").get(chosen.get("href"))) == [texts.car, texts.minutes, texts.room]


def test_the_deadline_level_facet_is_the_items_level_today(app, signed_in, texts):
    from portal.core.timeutil import today
    from portal.supervision.levels import item_level

    with app.app_context():
        levels = {
            i: item_level(db.session.get(Item, i), today()).id for i in (texts.car, texts.room, texts.minutes)
        }
    office = signed_in("office")
    for level in set(levels.values()):
        expected = [i for i in (texts.car, texts.minutes, texts.room) if levels[i] == level]
        assert found(office.get(f"/search?level={level}")) == expected


def test_results_are_sorted_and_paged_by_keyset(app, signed_in, world, texts):
    with app.app_context():
        ids = [make_item(world, f"整改事项{n:02d}", deadline=date(2027, 1, 1 + n % 5)) for n in range(25)]
        db.session.commit()
    office = signed_in("office")
    first = office.get("/search?q=整改事项")
    assert total(first) == 25 and len(found(first)) == 20
    link = html.fromstring(first.text).xpath('//a[@id="next-page"]/@href')[0]
    second = office.get(link)
    assert len(found(second)) == 5 and not set(found(first)) & set(found(second))
    assert not html.fromstring(second.text).xpath('//a[@id="next-page"]')
    by_deadline = sorted(ids, key=lambda i: ((i - ids[0]) % 5, i))
    assert found(first) + found(second) == by_deadline
    newest = office.get("/search?q=整改事项&sort=newest")
    assert found(newest) == sorted(ids, reverse=True)[:20]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"q": "整"}, "single Chinese character"),
        ({"q": " ".join(f"词{n}语" for n in range(9))}, "at most 8 terms"),
        ({"q": "公车", "state": "nonsense"}, "“State” was not understood"),
        ({"q": "公车", "inspection": "²"}, "“Inspection” was not understood"),
        ({"q": "公车", "due_from": "2027-13-01"}, "“Deadline from” was not understood"),
        ({"q": "公车", "due_from": "2027-02-01", "due_to": "2027-01-01"}, "ends before it begins"),
        ({"q": "公车", "after": "2026-12-31~99999999999999999999"}, "no longer there"),
        ({"q": "公车", "after": "not-a-cursor"}, "no longer there"),
    ],
)
def test_what_cannot_be_searched_is_said_and_the_rest_still_searched(signed_in, texts, args, message):
    response = signed_in("office").get(
        "/search", query_string={**args, "lang": "en"}, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert any(message in p for p in problems(response)), problems(response)
    assert html.fromstring(response.text).xpath('//input[@id="search-q"]/@value')[0] == args["q"]


def test_problems_are_said_in_chinese_by_default(signed_in, texts):
    response = signed_in("office").get("/search?q=整")
    assert any("两个字" in p or "单个汉字" in p for p in problems(response)), problems(response)


def test_the_header_box_searches_the_office_side_or_the_public_side(signed_in, client, texts):
    tree = html.fromstring(signed_in("office").get("/").text)
    assert tree.xpath('//form[@id="header-search"]/@action') == ["/search"]
    tree = html.fromstring(client.get("/public/").text)
    assert tree.xpath('//form[@id="header-search"]/@action') == ["/public/search"]


def test_the_public_page_carries_no_private_text(client, texts):
    body = client.get("/public/search?q=管理").text
    assert "闲置" not in body and "产业用房" not in body and re.search("公车", body)
