"""Languages: Simplified Chinese by default, complete; English on request."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
ZH_PO = ROOT / "portal" / "translations" / "zh" / "LC_MESSAGES" / "messages.po"


def test_chinese_catalog_is_complete_and_current(tmp_path):
    """Every message in the code and templates has a Chinese translation, none fuzzy."""
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            str(ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-o",
            str(pot),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    with pot.open("rb") as fh:
        extracted = {m.id for m in read_po(fh) if m.id}
    with ZH_PO.open("rb") as fh:
        catalog = read_po(fh)
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    missing = sorted(str(i) for i in extracted - translated)
    assert not missing, f"untranslated (run `make extract-messages`, then translate): {missing}"
    assert len(extracted) > 80


def test_chinese_is_the_default(client):
    page = client.get("/").text
    assert '<html lang="zh-CN">' in page
    assert "巡察整改督办平台" in page and "登录" in page


def test_switch_to_english_and_back(client):
    token = client.csrf_token()
    response = client.post("/language", data={"lang": "en", "next": "/login", "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    page = client.get("/login").text
    assert '<html lang="en">' in page and "Sign in" in page and "Login name" in page
    assert "中文" in page
    token = client.csrf_token()
    client.post("/language", data={"lang": "zh", "next": "/", "csrf_token": token})
    assert "登录" in client.get("/").text


def test_language_survives_login(client, make_user):
    from tests.conftest import TEST_PASSWORD

    make_user("staff1", "staff")
    client.post("/language", data={"lang": "en", "next": "/", "csrf_token": client.csrf_token()})
    client.login("staff1", TEST_PASSWORD)
    assert "Sign out" in client.get("/").text


def test_unknown_language_is_refused(client):
    response = client.post("/language", data={"lang": "fr", "csrf_token": client.csrf_token()})
    assert response.status_code == 400


def test_language_switch_does_not_redirect_off_site(client):
    response = client.post(
        "/language", data={"lang": "en", "next": "https://evil.example/", "csrf_token": client.csrf_token()}
    )
    assert response.headers["Location"] == "/"
