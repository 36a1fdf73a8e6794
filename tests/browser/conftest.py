"""Browser harness: the app served on a free loopback port, driven by Debian's Chromium.

Locally the browser tests skip when Chromium or axe-core is missing; with
RECTIFY_REQUIRE_BROWSER=1 (set by .ci/run) a missing one is a failure. Every page a journey
photographs is first checked with axe-core against WCAG 2.1 A and AA: any violation fails it.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from portal.demo.cli import demo_password

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
#: axe-core from the npm registry (`make install-dev` runs `npm ci` in tests/browser)
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
#: the rules checked: WCAG 2.1 A and AA
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page) -> list[dict]:
    """Run axe-core on the page as it is now; its violations (rule, impact, help, where).

    The script is evaluated through the browser's debugging protocol, which the page's strict
    CSP does not govern (an injected <script> tag would be refused, as it should be)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate("() => { " + AXE.read_text(encoding="utf-8") + "\n}")
    return page.evaluate(
        r"""async (tags) => {
            const result = await window.axe.run(document, {runOnly: {type: "tag", values: tags}});
            const summary = (n) => (n.failureSummary || "").replace(/\s+/g, " ").slice(0, 160);
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 8).map(n => n.target.join(" ") + " [" + summary(n) + "]"),
            }));
        }""",
        AXE_TAGS,
    )


def assert_accessible(page, where: str = "") -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on {where or page.url}:\n" + "\n".join(
        f"  {v['id']} ({v['impact']}): {v['help']} at {', '.join(v['nodes'])}" for v in violations
    )


@pytest.fixture
def app(demo_app):
    """Journeys start from the demo content (a copy of the session's demo database)."""
    return demo_app


@pytest.fixture
def live_server(app):
    """Serve the test app (with the demo accounts) in a real server thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def page(browser, live_server, request):
    """A fresh browser context per test; a screenshot of the last page is kept."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    take = page.screenshot

    def checked_screenshot(*args, **kwargs):
        # every page a journey photographs is also checked with axe-core
        assert_accessible(page, kwargs.get("path") or (args[0] if args else ""))
        return take(*args, **kwargs)

    page.screenshot = checked_screenshot
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    take(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()


def sign_in(page, login: str, password: str | None = None, *, lands_signed_in: bool = True) -> None:
    """Sign in through the form as `login` (with its demo password unless given), from no session.

    The cookies are cleared only once nothing is in flight: a late response to the last page
    (a static file, which refreshes the idle-timeout session cookie) would otherwise bring the
    previous account's session back, and /login would send the browser home signed in."""
    from tests.browser.playwright_api import expect

    page.wait_for_load_state("networkidle")
    page.context.clear_cookies()
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", password if password is not None else demo_password(login))
    page.click("#login-form [type=submit]")
    if lands_signed_in:
        expect(page.locator("#logout")).to_be_visible()


def sign_out(page) -> None:
    from tests.browser.playwright_api import expect

    page.click("#logout")
    expect(page.locator("#login-link")).to_be_visible()


def take_step(page, name: str, comment: str = "") -> None:
    """Fire transition `name` from the item page: from the leader's review panel (one comment,
    a button per step) when it offers it, else from the step's own form."""
    review = page.locator(f"#review-form button[data-transition={name}]")
    if review.count():
        if comment:
            page.fill("#review-comment", comment)
        review.click()
        return
    form = page.locator(f"form[data-transition={name}]")
    if comment:
        form.locator("textarea").fill(comment)
    form.locator("button").click()
