"""Public pages: what they show, and a crawl proving nothing private leaks."""

import io
import re
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from flask import url_for

from portal.accounts.operations import update_user
from portal.audit.chain import Actor
from portal.core.extensions import db
from portal.evidence.models import Evidence
from portal.evidence.operations import add_evidence_file, add_evidence_note
from portal.evidence.storage import FileStore
from portal.inspections.models import RectificationItem
from portal.inspections.operations import update_document
from tests.evidence.test_evidence import PDF

MARKERS = (
    "PRIVATE-NAME",
    "PRIVATE-COMMENT",
    "PRIVATE-EVIDENCE",
    "PRIVATE-SUMMARY",
    "PRIVATE-FEEDBACK",
    "PRIVATE-TITLE",
    "PRIVATE-NOTE",
    "PRIVATE-FILE",
    "PRIVATE-CONTACT",
    "private-contact@example.cn",
    "13912345678",
    "PRIVATE-UNPUBLISHED",
    "PRIVATE-WITHDRAWN",
)


@pytest.fixture
def public(app, world):
    """One published completed item with private material around it, one unpublished item in
    progress, and one published item withdrawn since (it counts nowhere and shows nowhere)."""
    shown = world.new_item(state="completed")
    hidden = world.new_item(state="in_progress")
    withdrawn = world.new_item(state="completed", money_to_recover=999999)
    world.fire("leader_resp", withdrawn, "publish")
    world.fire("office", withdrawn, "withdraw", comment="重复录入")
    actor = Actor.system("test")
    with app.app_context():
        for persona in ("staff_resp", "leader_resp"):
            user = world.user(persona)
            update_user(actor, user, display_name=f"{persona} PRIVATE-NAME", email=None, department=None)
        item = db.session.get(RectificationItem, shown)
        update_document(
            actor,
            item,
            {
                "public_summary": "已完成产业用房管理规定修订并公开发布。",
                "completion_summary": "PRIVATE-SUMMARY 内部成效",
                "feedback_text": "PRIVATE-FEEDBACK 原文",
                "money_to_recover": 161000,
                "money_recovered": 20000,
            },
            note="PRIVATE-NOTE",
        )
        store = FileStore(app.config["EVIDENCE_DIR"])
        add_evidence_note(actor, item, "PRIVATE-EVIDENCE 内部材料")
        add_evidence_file(actor, item, store, io.BytesIO(PDF), "PRIVATE-FILE.pdf", ("pdf",))
        add_evidence_file(actor, item, store, io.BytesIO(PDF), "公开的整改报告.pdf", ("pdf",), public=True)
        db.session.get(RectificationItem, hidden).title = "PRIVATE-TITLE 未公开事项"
        db.session.get(RectificationItem, withdrawn).title = "PRIVATE-WITHDRAWN 已撤销事项"
        db.session.commit()
    world.fire("leader_resp", shown, "publish", comment="PRIVATE-COMMENT 公开前内部意见")
    from portal.core.transitions import fire
    from portal.feedback.operations import submit_feedback
    from portal.inspections.models import Inspection

    with app.app_context():
        item = db.session.get(RectificationItem, shown)
        inspection = db.session.get(Inspection, item.inspection_id)
        contact = {"name": "PRIVATE-CONTACT", "phone": "13912345678", "email": "private-contact@example.cn"}
        submit_feedback(inspection, item, kind="clue", text="PRIVATE-UNPUBLISHED 线索", **contact)
        published, _code = submit_feedback(
            inspection, item, kind="suggestion", text="建议公开整改台账。", **contact
        )
        db.session.flush()
        fire(Actor.of(world.user("office")), published, "publish")
        db.session.commit()
    return {
        "shown": shown,
        "hidden": hidden,
        "withdrawn": withdrawn,
        "inspection": world.inspections["single"],
    }


def _inspection_counts(app, inspection_id) -> dict:
    """The inspection's own figures, read from its items directly (not through the portal's
    queries): every item not withdrawn, published or not."""
    with app.app_context():
        items = db.session.scalars(
            sa.select(RectificationItem).where(
                RectificationItem.inspection_id == inspection_id,
                RectificationItem.lifecycle_state == "active",
            )
        ).all()
        done = [i for i in items if i.state in ("completed", "follow_up")]
        return {
            "total": len(items),
            "completed": len(done),
            "not_completed": len(items) - len(done),
            "rate": round(100 * len(done) / len(items)),
            "published": sum(i.publication_state == "published" for i in items),
        }


def test_public_totals_are_the_inspections_real_counts(app, public):
    """Totals count every item (the genre publishes them); details only the published ones."""
    counts = _inspection_counts(app, public["inspection"])
    assert counts == {"total": 2, "completed": 1, "not_completed": 1, "rate": 50, "published": 1}
    client = app.test_client()
    listing = client.get("/public/")
    assert listing.status_code == 200 and "区科技创新局巡察整改" in listing.text
    assert f'data-total="{counts["total"]}" data-published="{counts["published"]}"' in listing.text
    page = client.get(f"/public/inspections/{public['inspection']}").text
    for key in ("total", "completed", "not_completed"):
        assert f'data-headline="{key}">{counts[key]}<' in page, key
    assert f'data-headline="rate">{counts["rate"]}%<' in page
    assert "20,000.00 / 161,000.00" in page  # the withdrawn item's 999,999 counts nowhere
    assert 'id="published-share"' in page and "1" in page
    assert f'data-item="{public["shown"]}"' in page
    assert f'data-item="{public["hidden"]}"' not in page and f'data-item="{public["withdrawn"]}"' not in page
    filtered = client.get(f"/public/inspections/{public['inspection']}?state=not_completed").text
    assert f'data-item="{public["shown"]}"' not in filtered


def test_a_withdrawn_item_leaves_the_public_side(app, public):
    client = app.test_client()
    assert client.get(f"/public/items/{public['withdrawn']}").status_code == 404
    notice = client.get(f"/public/inspections/{public['inspection']}/notice").text
    assert "对巡察反馈的2项问题" in notice and "PRIVATE-WITHDRAWN" not in notice


def test_public_item_page(app, public):
    client = app.test_client()
    page = client.get(f"/public/items/{public['shown']}").text
    assert "建议公开整改台账。" in page  # published feedback shows, without its contact
    assert "已完成产业用房管理规定修订并公开发布。" in page and "公开的整改报告.pdf" in page
    assert 'data-action="complete"' in page
    assert client.get(f"/public/items/{public['hidden']}").status_code == 404


def test_public_notice_shows_only_published_items(app, public):
    client = app.test_client()
    page = client.get(f"/public/inspections/{public['inspection']}/notice").text
    assert "加强科创中心产业用房管理" in page and "PRIVATE-TITLE" not in page
    docx = client.get(f"/public/inspections/{public['inspection']}/notice.docx")
    assert docx.status_code == 200 and docx.data[:2] == b"PK"


def test_public_evidence_downloads_only_public_pieces(app, public):
    client = app.test_client()
    with app.app_context():
        pieces = {
            e.filename: e.id
            for e in db.session.scalars(sa.select(Evidence).where(Evidence.storage_key.is_not(None)))
        }
    assert client.get(f"/public/evidence/{pieces['公开的整改报告.pdf']}").data == PDF
    assert client.get(f"/public/evidence/{pieces['PRIVATE-FILE.pdf']}").status_code == 404


def public_urls(app, public):
    with app.app_context():
        evidence_ids = db.session.scalars(sa.select(Evidence.id)).all()
    samples = {
        "inspection_id": [public["inspection"], 999],
        "item_id": [public["shown"], public["hidden"], public["withdrawn"]],
        "evidence_id": evidence_ids,
    }
    urls = ["/", "/login"]
    for rule in app.url_map.iter_rules():
        public_endpoint = rule.endpoint.startswith("public.") or rule.endpoint in (
            "feedback.give",
            "feedback.lookup",
        )
        if not public_endpoint or "GET" not in rule.methods:
            continue
        combos = [{}]
        for name in rule.arguments:
            assert name in samples, f"no sample for <{name}> in {rule.rule}"
            combos = [{**c, name: v} for c in combos for v in samples[name]]
        with app.test_request_context():
            urls += [url_for(rule.endpoint, **c) for c in combos]
        for query in ("?state=completed", "?category=1", "?lang=en"):
            if rule.endpoint == "public.inspection":
                urls.append(f"/public/inspections/{public['inspection']}{query}")
    # the public search, for words of every private text (a marker itself would be echoed in
    # the search box): in lower case, in parts, and narrowed
    for words in SEARCHES:
        for more in ("", "&state=in_progress", f"&inspection={public['inspection']}", "&sort=newest"):
            urls.append(f"/public/search?q={quote(words)}{more}")
    return urls


#: what the crawl searches for on the public side: parts of the private markers and texts
SEARCHES = (
    "private",
    "name",
    "comment",
    "evidence",
    "summary",
    "feedback",
    "title",
    "file",
    "contact",
    "unpublished",
    "withdrawn",
    "13912",
    "example",
    "内部",
    "原文",
    "材料",
    "线索",
    "意见",
    "撤销",
    "未公开",
    "成效",
    "整改",
    "产业用房",
    "建议",
)


def test_nothing_private_reaches_a_public_page(app, public):
    client = app.test_client()
    urls = public_urls(app, public)
    assert len(urls) >= 10
    seen = 0
    for url in urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        body = (
            response.get_data(as_text=True)
            if response.mimetype.startswith("text")
            else response.data.decode("latin-1")
        )
        for marker in MARKERS:
            assert marker not in body, (marker, url)
        seen += response.status_code == 200
    assert seen >= 6


def test_an_extended_deadline_is_marked(app, world):
    """“Extended” means an approved extension request (延期申请); an office's correction of the
    date is not one."""
    from tests.deadlines.helpers import decide, file, in_days

    item_id = world.new_item(state="in_progress", deadline=in_days(30))
    world.fire("leader_resp", item_id, "publish")
    client = app.test_client()
    assert 'id="extended"' not in client.get(f"/public/items/{item_id}").text
    with app.app_context():
        update_document(
            Actor.system("test"),
            db.session.get(RectificationItem, item_id),
            {"deadline": in_days(40)},
            note="更正录入错误",
        )
        db.session.commit()
    assert 'id="extended"' not in client.get(f"/public/items/{item_id}").text
    request_id = file(world, item_id, days=90, reason="延期至年底")
    decide(world, "leader_resp", request_id, "leader_approve")
    decide(world, "office", request_id, "office_approve")
    page = client.get(f"/public/items/{item_id}").text
    assert 'id="extended"' in page and in_days(90).isoformat() in page
    assert "延期至年底" not in page and "更正录入错误" not in page  # reasons and notes are internal


def test_the_public_inspection_page_is_paginated(app, world, monkeypatch):
    """A long list comes a page at a time, its filters kept in the page links; a page past the
    end shows the last page."""
    from portal.public import queries

    monkeypatch.setattr(queries, "PER_PAGE", 2)
    ids = [world.new_item(state="completed") for _ in range(3)]
    for item_id in ids:
        world.fire("leader_resp", item_id, "publish")
    visitor = app.test_client()
    url = f"/public/inspections/{world.inspections['single']}"
    first = visitor.get(f"{url}?state=completed").text
    assert [int(i) for i in re.findall(r'<tr data-item="(\d+)"', first)] == ids[:2]
    assert "第 1–2 条，共 3 条" in first
    assert f'href="{url}?state=completed&amp;page=2"' in first and 'rel="next"' in first
    second = visitor.get(f"{url}?state=completed&page=2").text
    assert [int(i) for i in re.findall(r'<tr data-item="(\d+)"', second)] == ids[2:]
    assert 'rel="prev"' in second and 'rel="next"' not in second
    past = visitor.get(f"{url}?state=completed&page=99").text
    assert [int(i) for i in re.findall(r'<tr data-item="(\d+)"', past)] == ids[2:]
