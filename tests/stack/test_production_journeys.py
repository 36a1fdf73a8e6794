"""The journeys of one item through the production stack, over HTTP, in Chromium: gunicorn
with three workers under RECTIFY_CONFIG=production on PostgreSQL and Redis, with the
task-queue worker (tests/stack/launch.py).

Staff start an item, write its outcome, attach evidence and submit; the leader signs in with a
second step, approves and publishes; a visitor gives feedback on the public page; the office
is mailed by the worker, replies and publishes the reply; the visitor looks it up; the auditor
finds the whole story in the log and the integrity check passes.
"""

from __future__ import annotations

import re
import time

import pyotp
import pytest

from tests.browser.conftest import SCREENSHOTS, assert_accessible, take_step
from tests.browser.playwright_api import expect
from tests.evidence.test_evidence import PDF

pytestmark = pytest.mark.browser

#: the last TOTP step used per account: a code is accepted once
_used_steps: dict[str, int] = {}


def totp_code(stack, login: str) -> str:
    """A fresh code for `login`, waiting for the next 30-second step if this one is used."""
    account = stack.seed["accounts"][login]
    last = max(_used_steps.get(login, -1), account.get("totp_step") or -1)
    while int(time.time()) // 30 <= last:
        time.sleep(0.5)
    step = int(time.time()) // 30
    _used_steps[login] = step
    return pyotp.TOTP(account["totp"]).at(step * 30)


def signed_in(browser, stack, login: str):
    """A new browser context signed in as `login` (with the second step where required)."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=stack.base_url
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", stack.seed["accounts"][login]["password"])
    page.click("#login-form [type=submit]")
    if stack.seed["accounts"][login]["totp"]:
        expect(page).to_have_url(re.compile(r"/login/verify$"))
        page.fill("input[name=code]", totp_code(stack, login))
        page.click("#second-step-form [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("欢迎")
    return context, page


def shot(page, name: str) -> None:
    assert_accessible(page, name)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"stack_{name}.png"), full_page=True)


def transition(page, name: str, comment: str = "") -> None:
    take_step(page, name, comment)


def test_an_item_goes_from_staff_to_leader_to_the_public_and_the_auditor(browser, stack, smtp):  # noqa: F811
    item = stack.seed["items"][0]

    # staff: start, write the outcome, attach evidence, submit
    context, page = signed_in(browser, stack, item["staff"])
    page.locator("#nav-entries").get_by_text("我的整改事项", exact=True).click()
    page.locator("#worklist").get_by_text(item["title"]).click()
    transition(page, "start")
    expect(page.locator("#item-state [data-state]")).to_have_text("整改中")
    page.click("#edit-item")
    page.fill("textarea[name=completion_summary]", "已修订产业用房管理办法，完成全面清查。")
    page.click("#document-form [type=submit]")
    page.set_input_files(
        "#evidence-form input[name=file]",
        files=[{"name": "整改报告.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    page.click("#evidence-form [type=submit]")
    expect(page.locator("#evidence-list")).to_contain_text("整改报告.pdf")
    transition(page, "submit", "请审核。")
    expect(page.locator("#item-state [data-state]")).to_have_text("待审核")
    shot(page, "staff_submitted")
    context.close()

    # leader (two-step sign-in): approve from the awaiting list, then publish
    context, page = signed_in(browser, stack, "leader")
    page.locator("[data-worklist=awaiting_review]").get_by_text(item["title"]).click()
    transition(page, "approve", "材料齐全，同意。")
    expect(page.locator("#item-state [data-state]")).to_have_text("已完成")
    transition(page, "publish")
    expect(page.locator(".alert-success")).to_contain_text("公开")
    shot(page, "leader_published")
    context.close()

    # the public: read the item, give feedback, keep the tracking code
    context = browser.new_context(locale="zh-CN", base_url=stack.base_url)
    public = context.new_page()
    public.goto("/public/")
    public.locator("#public-inspections a").first.click()
    public.locator("#public-items a", has_text=item["title"]).click()
    expect(public.locator("h1")).to_contain_text(item["title"])
    public.click("#give-feedback")
    public.select_option("select[name=kind]", value="not_rectified")
    public.fill("textarea[name=text]", "用房清查结果未公示，请核实。")
    public.click("#feedback-form [type=submit]")
    code = public.locator("#tracking-code").inner_text()
    shot(public, "public_feedback_code")

    # the worker mails the office (the outbox through Redis), who replies and publishes
    deadline = time.time() + 30
    while not any(m["To"] == "office@example.cn" for m in smtp.messages) and time.time() < deadline:
        time.sleep(0.2)
    assert [m["To"] for m in smtp.messages].count("office@example.cn") == 1, stack.log("worker")[-3000:]
    office_context, office = signed_in(browser, stack, "office")
    office.locator("#nav-entries").get_by_text("意见建议", exact=True).click()
    expect(office.locator("#feedback-queue")).to_contain_text("用房清查结果未公示")
    office.locator("[data-reply-for] summary").first.click()
    office.locator("[data-reply-for] textarea[name=reply]").first.fill("已在单位公示栏公示清查结果。")
    office.locator("[data-reply-for] button").first.click()
    office.locator("#feedback-queue input[name=ids]").first.check()
    office.select_option("#bulk-action", value="publish")
    office.click("#bulk-submit")
    expect(office.locator(".alert-success")).to_contain_text("已公开 1 条")
    office_context.close()

    public.goto("/public/feedback/lookup")
    public.fill("input[name=code]", code)
    public.click("#lookup-form [type=submit]")
    expect(public.locator("#lookup-reply")).to_contain_text("已在单位公示栏公示清查结果。")
    context.close()

    # the auditor: the item's events in the log, its full history, and a passing check
    context, page = signed_in(browser, stack, "auditor")
    page.click("#nav-entries >> text=审计日志")
    page.select_option("#object_type", "item")
    page.fill("#object_id", str(item["id"]))
    page.click("#log-filter [type=submit]")
    events = page.locator("#audit-events > tbody")
    for action in ("提交审核", "审核同意", "公开"):
        expect(events).to_contain_text(action)
    shot(page, "auditor_log")
    page.click("#nav-entries >> text=完整性核验")
    page.click("#run-verification")
    expect(page.locator(".alert-success")).to_contain_text("核验通过")
    expect(page.locator("#result-badge")).to_have_text("通过")
    shot(page, "auditor_verified")
    context.close()

    # the stack is still up, and no process logged an error on the way
    assert stack.web.poll() is None and stack.worker.poll() is None
    assert "Traceback" not in stack.log("web") and "Traceback" not in stack.log("worker")
