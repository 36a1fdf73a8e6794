"""Error pages: in the user's language, the right status, never a traceback."""

import pytest
from flask import abort

TITLES = {
    400: "请求无效",
    403: "无权访问",
    404: "页面不存在",
    409: "数据冲突",
    413: "文件过大",
    429: "请求过于频繁",
    500: "服务器错误",
}


@pytest.fixture
def failing_app(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.route("/_test/abort/<int:code>")
    def _abort(code):
        abort(code)

    @app.route("/_test/crash")
    def _crash():
        raise RuntimeError("secret internal detail")

    @app.route("/_test/upload", methods=["POST"])
    def _upload():
        from flask import request

        return str(len(request.get_data()))

    return app


@pytest.mark.parametrize("code", [400, 403, 404, 409, 429, 500])
def test_error_pages_speak_chinese(failing_app, code):
    response = failing_app.test_client().get(f"/_test/abort/{code}")
    assert response.status_code == code
    assert f'data-code="{code}"' in response.text
    assert TITLES[code] in response.text
    assert response.mimetype == "text/html"


def test_unknown_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and TITLES[404] in response.text


def test_crash_shows_no_traceback(failing_app):
    response = failing_app.test_client().get("/_test/crash")
    assert response.status_code == 500
    assert TITLES[500] in response.text
    assert "Traceback" not in response.text and "secret internal detail" not in response.text


def test_too_large_upload(failing_app):
    failing_app.config["MAX_CONTENT_LENGTH"] = 1024
    response = failing_app.test_client().post(
        "/_test/upload", data=b"x" * 4096, content_type="application/octet-stream"
    )
    assert response.status_code == 413
    assert TITLES[413] in response.text


def test_error_pages_in_english(failing_app):
    client = failing_app.test_client()
    response = client.get("/_test/abort/403?lang=en")
    assert "Access denied" in response.text


def test_security_headers(client):
    response = client.get("/")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
