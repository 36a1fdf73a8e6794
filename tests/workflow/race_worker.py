"""One of eight reviewers racing to approve or return the same item, through HTTP."""

from __future__ import annotations

import re


def review(
    db_url: str, instance: str, item_id: int, login: str, password: str, transition: str, barrier, results
) -> None:
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
    try:
        assert client.login(login, password).status_code == 302
        page = client.get(f"/items/{item_id}").text
        version = re.search(r'name="version" value="(\d+)"', page).group(1)
        token = client.csrf_token()
        barrier.wait(timeout=60)  # everyone has the page open; now all click at once
        response = client.post(
            f"/items/{item_id}/transitions/{transition}",
            data={"csrf_token": token, "version": version, "comment": f"{login}: 请补充佐证材料。"},
        )
        results[login] = (
            transition,
            response.status_code,
            "database is locked" in response.get_data(as_text=True),
        )
    except Exception as exc:  # reported to the parent, which fails the test
        results[login] = (transition, repr(exc), False)
    finally:
        with app.app_context():
            from portal.core.extensions import db

            db.engine.dispose()
