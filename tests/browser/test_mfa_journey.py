"""Two-step sign-in in the browser: a leader, whose role requires it, is sent to enrolment on
the account page, scans (here: reads) the key, confirms with a code, keeps the recovery codes
and signs in with password and code; an admin resets it with their own password typed again;
the leader must enrol again."""

import re
from datetime import UTC, timedelta

import pyotp
import pytest

import portal.accounts.auth as auth
import portal.audit.chain as chain
from portal.demo.cli import demo_password
from tests.browser.conftest import SCREENSHOTS
from tests.browser.conftest import sign_in as sign_in_through_the_form
from tests.browser.playwright_api import expect

pytestmark = pytest.mark.browser


def sign_in(page, login):
    """The password step only: where it leads (enrolment, the code, home) is the test's."""
    sign_in_through_the_form(page, login, lands_signed_in=False)


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def code_in(secret, monkeypatch, seconds):
    """The code `seconds` from now, with sign-in's clock moved there (each code is good once)."""
    later = chain.utcnow() + timedelta(seconds=seconds)
    monkeypatch.setattr(auth, "utcnow", lambda: later)
    return pyotp.TOTP(secret).at(later.replace(tzinfo=UTC).timestamp())


def test_leader_enrols_signs_in_with_a_code_and_an_admin_resets_it(
    app, page, browser, live_server, monkeypatch
):
    app.config["MFA_REQUIRED_ROLES"] = ("leader",)

    # the password step alone leads to the enrolment, and nothing else opens
    sign_in(page, "leader")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#mfa-required")).to_contain_text("您的角色要求启用两步验证")
    page.goto("/inspections/")
    expect(page).to_have_url(re.compile(r"/account$"))

    page.click("#mfa-section form [type=submit]")
    expect(page.locator("#totp-qr")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert len(secret) == 32
    shot(page, "mfa_enrolment")

    page.fill("#mfa-confirm-form input[name=code]", "000000")
    page.click("#mfa-confirm-form [type=submit]")
    expect(page.locator("#mfa-confirm-form .invalid-feedback")).to_contain_text("验证码不正确")
    page.fill("#mfa-confirm-form input[name=code]", pyotp.TOTP(secret).now())
    page.click("#mfa-confirm-form [type=submit]")
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "mfa_recovery_codes")
    page.click("#codes-saved")
    expect(page.locator("#mfa-section")).to_contain_text("已启用")
    page.goto("/inspections/")
    expect(page).to_have_url(re.compile(r"/inspections/$"))

    # signing in again: password, then the code
    page.click("#logout")
    sign_in(page, "leader")
    expect(page).to_have_url(re.compile(r"/login/verify$"))
    expect(page.locator("h1")).to_have_text("两步验证")
    shot(page, "mfa_second_step")
    page.fill("input[name=code]", code_in(secret, monkeypatch, 30))
    page.click("#second-step-form [type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("欢迎")
    expect(page).to_have_url(re.compile(r"/$"))

    # the admin resets it, typing their own password again
    admin_context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=live_server
    )
    admin = admin_context.new_page()
    try:
        sign_in(admin, "admin")
        admin.goto("/admin/users")
        admin.click("td > a:text-is('leader')")
        expect(admin.locator("#mfa-status")).to_contain_text("已启用两步验证")
        admin.click("#mfa-reset-form [type=submit]")
        expect(admin.locator("#mfa-reset-form .invalid-feedback")).to_contain_text("请输入您自己的密码")
        admin.fill("#mfa-reset-form input[name=reauth_password]", demo_password("admin"))
        shot(admin, "mfa_admin_reset")
        admin.click("#mfa-reset-form [type=submit]")
        expect(admin.locator(".alert-success")).to_contain_text("已重置 leader 的两步验证")
        expect(admin.locator("#mfa-status")).to_contain_text("未设置")
    finally:
        admin_context.close()

    # the leader was signed out, and must enrol again
    page.goto("/inspections/")
    expect(page).to_have_url(re.compile(r"/login"))
    sign_in(page, "leader")
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("#mfa-required")).to_be_visible()
