"""Journeys: a visitor's feedback goes round the office and back; script never runs."""

import re
from datetime import date

import pytest
import sqlalchemy as sa

from portal.core.extensions import db
from portal.demo.cli import demo_password
from tests.browser.conftest import SCREENSHOTS
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser

# 30+ payloads for every public input; all must render as text.
XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>x</a>",
    "javascript:alert(1)",
    "<details open ontoggle=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<audio src=x onerror=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "{{7*7}}<script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<div style="background:url(javascript:alert(1))">',
    "<link rel=import href=data:text/html,<script>alert(1)</script>>",
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<base href=javascript:alert(1)//>",
    "<textarea><script>alert(1)</script></textarea>",
    "</textarea><script>alert(1)</script>",
    "<select onfocus=alert(1) autofocus>",
    "<keygen autofocus onfocus=alert(1)>",
    'https://example.cn/" onmouseover="alert(1)',
    "<x contenteditable onblur=alert(1)>lose focus",
    "<isindex type=image src=1 onerror=alert(1)>",
]


def office_signed_in(page, dialogs):
    """A second browser context, signed in as the demo office, beside the visitor's."""
    context = page.context.browser.new_context(locale="zh-CN", base_url=page.url.split("/public")[0])
    office = context.new_page()
    office.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    office.goto("/login")
    office.fill("input[name=login]", "office")
    office.fill("input[name=password]", demo_password("office"))
    office.click("#login-form [type=submit]")
    return context, office


def test_feedback_round_trip(page, app):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/public/")
    page.locator("#public-inspections a").first.click()
    page.locator("#public-items a").first.click()
    item_url = page.url
    page.click("#give-feedback")
    page.select_option("select[name=kind]", value="not_rectified")
    page.fill("textarea[name=text]", "复查发现仍有问题，建议回头看。" + XSS[0])
    page.fill("input[name=phone]", "13800138000")
    page.click("#feedback-form [type=submit]")
    code = page.locator("#tracking-code").inner_text()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    expect(page.locator("#submitted-at")).to_contain_text(str(date.today().year))
    expect(page.locator("#copy-code")).to_be_visible()  # shown by copy-code.js, with print
    expect(page.locator("#print-code")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "feedback_received_1280.png"), full_page=True)
    page.emulate_media(media="print")  # the slip as printed: the code and its facts, no chrome
    expect(page.locator("#copy-code")).to_be_hidden()
    page.screenshot(path=str(SCREENSHOTS / "feedback_received_print.png"), full_page=True)
    page.emulate_media(media="screen")

    with app.app_context():
        from portal.feedback.models import Feedback

        pending = db.session.scalar(
            sa.select(sa.func.count()).where(Feedback.moderation_state == "pending")
        )  # the demo's own, and this one
    office, staff_page = office_signed_in(page, dialogs)
    expect(staff_page.locator("[data-badge=moderation_queue]")).to_have_text(str(pending))
    staff_page.locator("#nav-entries").get_by_text("意见建议", exact=True).click()
    expect(staff_page.locator("#feedback-queue")).to_contain_text("13800138000")
    staff_page.locator("[data-reply-for] summary").first.click()
    staff_page.locator("[data-reply-for] textarea[name=reply]").first.fill("已安排回头看，感谢监督。")
    staff_page.locator("[data-reply-for] button").first.click()
    staff_page.locator("#feedback-queue input[name=ids]").first.check()
    staff_page.select_option("#bulk-action", value="publish")
    staff_page.click("#bulk-submit")
    expect(staff_page.locator(".alert-success")).to_contain_text("已公开 1 条")
    office.close()

    page.goto("/public/feedback/lookup")
    page.fill("input[name=code]", code)
    page.click("#lookup-form [type=submit]")
    expect(page.locator("#lookup-reply")).to_contain_text("已安排回头看，感谢监督。")
    page.goto(item_url)
    expect(page.locator("#public-feedback .public-reply", has_text="已安排回头看")).to_have_count(1)
    expect(page.locator("#public-feedback")).not_to_contain_text("13800138000")
    assert dialogs == []


def test_script_payloads_stay_inert(page, app):
    """Every payload in every public input, then shown back on the pages that echo it."""
    app.config.update(FEEDBACK_RATE_LIMIT="1000 per minute", LOOKUP_RATE_LIMIT="1000 per minute")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/public/")
    page.locator("#public-inspections a").first.click()
    page.locator("#public-items a").first.click()
    page.click("#give-feedback")
    give_url = page.url
    for payload in XSS[:12]:
        page.goto(give_url)
        page.fill("textarea[name=text]", "payload " + payload)
        page.fill("input[name=name]", payload[:60])
        page.fill("input[name=email]", payload[:60])  # invalid: the form comes back with it
        page.click("#feedback-form [type=submit]")
        expect(page.locator("input[name=name]")).to_have_value(payload[:60])
    for payload in XSS:
        page.goto(give_url)
        page.fill("textarea[name=text]", "payload " + payload)
        page.fill("input[name=name]", payload[:60])
        page.click("#feedback-form [type=submit]")
        page.goto("/public/feedback/lookup")
        page.fill("input[name=code]", payload[:30])
        page.click("#lookup-form [type=submit]")
    with app.app_context():
        from portal.feedback.models import Feedback

        demo_pending, demo_published = (
            db.session.scalar(
                sa.select(sa.func.count()).where(
                    Feedback.moderation_state == state, Feedback.text.not_like("payload %")
                )
            )
            for state in ("pending", "published")
        )
    staff, office = office_signed_in(page, dialogs)
    office.goto("/feedback/")
    expect(office.locator("[data-tab=pending] .badge")).to_have_text(str(len(XSS) + demo_pending))
    while office.locator("#feedback-queue input[name=ids]").count():  # a page of the queue at a time
        for box in office.locator("#feedback-queue input[name=ids]").all():
            box.check()
        office.select_option("#bulk-action", value="publish")
        with office.expect_navigation():
            office.click("#bulk-submit")
    expect(office.locator("[data-tab=pending] .badge")).to_have_text("0")
    staff.close()
    page.goto(give_url.rsplit("/inspections", 1)[0] + "/items/" + give_url.split("/items/")[1].split("/")[0])
    expect(page.locator("#public-feedback li")).to_have_count(len(XSS) + demo_pending + demo_published)
    page.wait_for_timeout(300)
    assert dialogs == []
    assert (
        page.evaluate(
            "document.querySelectorAll('#public-feedback script, #public-feedback img,"
            " #public-feedback svg, #public-feedback iframe').length"
        )
        == 0
    )
