"""Response headers: Permissions-Policy and COOP everywhere, no-store on signed-in pages, HSTS
under production."""

import pytest

from portal import create_app

EVERYWHERE = ("/", "/login", "/public/", "/static/portal.css", "/no-such-page")


@pytest.mark.parametrize("path", EVERYWHERE)
def test_every_response_has_permissions_policy_and_coop(client, path):
    response = client.get(path)
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_signed_in_pages_are_not_stored(app, login_as):
    client = login_as("staff1", "staff")
    for path in ("/", "/account", "/inspections/", "/no-such-page"):
        assert "no-store" in client.get(path).headers.get("Cache-Control", ""), path


def test_no_hsts_outside_production(client):
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_hsts_under_production(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s3cret-for-production-" + "x" * 20)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"CONFIG": "production", "INSTANCE_PATH": str(tmp_path)})
    response = app.test_client().get("/static/portal.css")
    hsts = response.headers["Strict-Transport-Security"]
    assert "max-age=31536000" in hsts and "includeSubDomains" in hsts
