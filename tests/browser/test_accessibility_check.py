"""The journeys' accessibility check itself: axe-core finds what it should, on a page the
portal serves as on one made to fail."""

from __future__ import annotations

import pytest

from tests.browser.conftest import assert_accessible, axe_violations


def test_axe_names_each_violation_and_the_check_fails_on_it(page):
    page.goto("/login")
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/static/none.png";  // an image without a text alternative
            document.querySelector("main, body").appendChild(img);
            const input = document.createElement("input");  // a field with no label
            document.querySelector("main, body").appendChild(input);
        }"""
    )
    found = {v["id"] for v in axe_violations(page)}
    assert {"image-alt", "label"} <= found
    with pytest.raises(AssertionError, match="image-alt"):
        assert_accessible(page)


def test_the_sign_in_page_passes_in_both_languages(page):
    for lang in ("zh", "en"):
        page.goto(f"/login?lang={lang}")
        assert_accessible(page)
