"""Personal access tokens in the browser: the staff member makes one on the account page (the
password again), sees it once, finds it listed by its first characters, uses it against the
API, revokes it, and the API refuses it; the API's documentation page lists the operations."""

import json
import urllib.error
import urllib.request

import pytest

from portal.demo.cli import demo_password
from tests.browser.conftest import SCREENSHOTS, sign_in
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def api_status(base: str, path: str, secret: str) -> int:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {secret}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            json.load(response)
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_make_use_and_revoke_a_token(page, live_server):
    sign_in(page, "staff")
    page.goto("/account#api-tokens")
    page.fill("#token-form input[name=name]", "台账同步脚本")
    page.select_option("#token-form select[name=scope]", "read")
    page.fill("#token-form input[name=password]", demo_password("staff"))
    page.click("#create-token")
    expect(page.locator("#new-token")).to_contain_text("台账同步脚本")
    secret = page.locator("#new-token-secret").inner_text().strip()
    assert secret.startswith("rfy_")
    expect(page.locator("#token-list")).to_contain_text(secret[:8] + "…")
    page.screenshot(path=str(SCREENSHOTS / "account-token-created.png"), full_page=True)
    assert api_status(live_server, "/api/items?b_size=1", secret) == 200
    page.goto("/account")
    assert secret not in page.content()  # shown once
    page.locator("#token-list button").first.click()
    expect(page.locator(".alert-success")).to_contain_text("已吊销")
    assert api_status(live_server, "/api/items?b_size=1", secret) == 401


def test_the_api_documentation_page(page):
    page.goto("/api/docs")
    expect(page.locator("h1")).to_contain_text("OpenAPI 3.1.0")
    expect(page.locator('[data-operation="get /api/items"]')).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"), full_page=True)
