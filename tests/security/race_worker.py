"""One of several users editing the same item's measures at the same moment, through HTTP."""

from __future__ import annotations


def edit_measure(db_url: str, instance: str, login: str, password: str, posts, barrier, results) -> None:
    """Sign in, then at the barrier send each (path, data) of `posts`; report the statuses."""
    from portal import create_app
    from tests.helpers import Client

    app = create_app(
        {
            "CONFIG": "testing",
            "SECRET_KEY": "race",
            "SQLALCHEMY_DATABASE_URI": db_url,
            "INSTANCE_PATH": instance,
        }
    )
    app.test_client_class = Client
    client = app.test_client()
    statuses = []
    try:
        assert client.login(login, password).status_code == 302
        token = client.csrf_token()
        barrier.wait(timeout=60)  # everyone is signed in; now all click at once
        for path, data in posts:
            response = client.post(path, data={"csrf_token": token, **data})
            statuses.append(response.status_code)
            if response.status_code == 409:
                assert "修改" in response.get_data(as_text=True), "a 409 without a clear message"
        results[login] = statuses
    except Exception as exc:  # reported to the parent, which fails the test
        results[login] = [repr(exc)]
    finally:
        with app.app_context():
            from portal.core.extensions import db

            db.engine.dispose()
