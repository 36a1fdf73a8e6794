"""Every response names its charset once (it read `text/plain; charset=utf-8; charset=utf-8`)."""

import pytest

from portal.inspections.models import APPROVAL_SINGLE


@pytest.mark.parametrize("fmt, media", [("csv", "text/csv"), ("jsonl", "application/x-ndjson")])
def test_the_audit_export_names_one_charset(world, signed_in, fmt, media):
    world.new_item(APPROVAL_SINGLE, "in_progress")
    response = signed_in("auditor").post_form("/audit/export", {"format": fmt})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"{media}; charset=utf-8"


def test_downloads_and_pages_name_one_charset(world, signed_in):
    item_id = world.new_item(APPROVAL_SINGLE, "in_progress")
    office = signed_in("office")
    inspection = world.inspections[APPROVAL_SINGLE]
    for url, expected in (
        (f"/inspections/{inspection}/notice.txt", "text/plain; charset=utf-8"),
        (f"/inspections/{inspection}/notice.docx", None),
        (f"/inspections/{inspection}/ledger.xlsx", None),
        (f"/items/{item_id}", "text/html; charset=utf-8"),
        ("/healthz", None),
    ):
        response = office.get(url)
        assert response.status_code == 200, url
        content_type = response.headers["Content-Type"]
        assert content_type.count("charset") <= 1, (url, content_type)
        if expected:
            assert content_type == expected, url
