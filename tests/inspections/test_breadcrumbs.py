"""Breadcrumbs name the way back: a page about a document (its edit form, sharing, versions,
notice) shows 巡察整改, its inspection and its item as links, then the page itself."""

import re

import pytest

from portal.core.extensions import db
from portal.inspections.models import RectificationItem


def crumbs(html: str) -> list[tuple[str, str | None]]:
    """(text, link or None) of each breadcrumb, in order."""
    trail = re.search(r'<ol class="breadcrumb[^"]*" id="breadcrumbs">(.*?)</ol>', html, re.S).group(1)
    out = []
    for li in re.findall(r"<li[^>]*>(.*?)</li>", trail, re.S):
        link = re.search(r'<a href="([^"]+)"', li)
        out.append((re.sub(r"<[^>]+>", "", li).strip(), link.group(1) if link else None))
    return out


@pytest.fixture
def item(app, world):
    item_id = world.new_item()
    with app.app_context():
        row = db.session.get(RectificationItem, item_id)
        return {
            "id": item_id,
            "title": row.title,
            "inspection_id": row.inspection_id,
            "inspection": row.inspection.title,
        }


@pytest.mark.parametrize(
    "page, last",
    [
        ("/items/{id}/edit", "编辑"),
        ("/sharing/item/{id}", "共享"),
        ("/versions/item/{id}", "版本记录"),
    ],
)
def test_a_page_about_an_item_leads_back_through_its_inspection(signed_in, item, page, last):
    html = signed_in("office").get(page.format(**item)).text
    trail = crumbs(html)
    assert trail[0] == ("首页", "/")
    assert trail[1] == ("巡察整改", "/inspections/")
    assert trail[2][1] == f"/inspections/{item['inspection_id']}"
    assert trail[3][1] == f"/items/{item['id']}"
    assert trail[-1] == (last, None) and len(trail) == 5


def test_the_notice_and_the_account_pages_name_their_parents(signed_in, item):
    office = signed_in("office")
    notice = crumbs(office.get(f"/inspections/{item['inspection_id']}/notice").text)
    assert [link for _, link in notice[:3]] == ["/", "/inspections/", f"/inspections/{item['inspection_id']}"]
    assert notice[-1] == ("整改情况通报", None)
    new = crumbs(office.get("/inspections/new").text)
    assert new[1] == ("巡察整改", "/inspections/") and new[-1][1] is None


def test_the_user_pages_lead_back_to_the_user_list(app, signed_in, world):
    admin = signed_in("admin")
    with app.app_context():
        staff_id = world.user("staff_resp").id
    for page in ("/admin/users/new", f"/admin/users/{staff_id}"):
        trail = crumbs(admin.get(page).text)
        assert trail[1] == ("用户管理", "/admin/users"), (page, trail)
