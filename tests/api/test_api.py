"""The REST API through the test client: tokens, the permission filter, @workflow with the
web's fire(), batching, search, errors in JSON, the rate limit and the OpenAPI document."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from portal.accounts.tokens import create_token, revoke_token
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from tests.helpers import audit_actions


def token(app, world, persona: str, scope: str = "write") -> dict:
    with app.app_context():
        user = world.user(persona)
        new = create_token(Actor.of(user), user, f"{persona} 的脚本", scope, 30)
        db.session.commit()
        return {"Authorization": f"Bearer {new.secret}"}


@pytest.fixture
def items(world):
    """A published item in progress and a private one just assigned."""
    published = world.new_item(state="in_progress")
    world.fire("leader_resp", published, "publish")
    private = world.new_item()
    return {"published": published, "private": private}


def ids(listing) -> list[int]:
    return [entry["id"] for entry in listing["items"]]


def test_anonymous_callers_get_the_public_endpoints_only(client, items):
    response = client.get("/api/items")
    assert response.status_code == 401 and response.json["type"] == "Unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert ids(client.get("/api/public/items").json) == [items["published"]]
    assert client.get(f"/api/public/items/{items['private']}").status_code == 404
    public = client.get(f"/api/public/items/{items['published']}").json
    assert public["@id"].endswith(f"/api/public/items/{items['published']}")
    assert "feedback_text" not in public and "staff" not in public


def test_the_session_cookie_is_never_read(signed_in, items):
    browser = signed_in("office")  # signed in on the web
    assert browser.get("/api/items").status_code == 401


def test_lists_and_objects_go_through_the_permission_filter(app, world, client, items):
    office = token(app, world, "office", "read")
    assert ids(client.get("/api/items", headers=office).json) == [items["published"], items["private"]]
    stranger = token(app, world, "staff_other", "read")
    assert ids(client.get("/api/items", headers=stranger).json) == []
    assert client.get(f"/api/items/{items['private']}", headers=stranger).status_code == 404
    item = client.get(f"/api/items/{items['private']}", headers=office).json
    assert item["@type"] == "RectificationItem" and item["state"]["id"] == "assigned"
    assert item["@workflow"].endswith(f"/api/items/{items['private']}/@workflow")
    assert item["inspection"]["@id"].endswith(f"/api/inspections/{item['inspection']['id']}")


def test_workflow_fires_through_the_webs_fire_with_the_same_audit_events(
    app, world, client, signed_in, items
):
    staff = token(app, world, "staff_resp")
    before = len(audit_actions(app))
    workflow = client.get(f"/api/items/{items['private']}/@workflow", headers=staff).json
    assert [t["id"] for t in workflow["transitions"]] == ["start"]
    response = client.post(workflow["transitions"][0]["@id"], json={"comment": "开始整改"}, headers=staff)
    assert response.status_code == 200, response.json
    assert response.json["state"]["id"] == "in_progress"
    assert response.json["history"][-1]["comment"] == "开始整改"
    api_events = audit_actions(app)[before:]
    # the same step on the web, on another item: the same events
    other = world.new_item()
    web = signed_in("staff_resp")
    before = len(audit_actions(app))
    assert web.post_form(f"/items/{other}/transitions/start", {"comment": "开始整改"}).status_code == 302
    assert audit_actions(app)[before:] == api_events == ["workflow.start"]
    with app.app_context():
        actor = db.session.scalar(sa.select(AuditEvent.actor_id).order_by(AuditEvent.seq.desc()).limit(1))
        assert actor == world.users["staff_resp"]


def test_refusals_are_json_with_the_reason(app, world, client, items):
    read_only = token(app, world, "staff_resp", "read")
    response = client.post(f"/api/items/{items['private']}/@workflow/start", json={}, headers=read_only)
    assert response.status_code == 403
    assert response.json == {"type": "Forbidden", "message": "此令牌只能读取。"}
    staff = token(app, world, "staff_resp")
    stale = client.post(f"/api/items/{items['private']}/@workflow/start", json={"version": 99}, headers=staff)
    assert stale.status_code == 409 and stale.json["type"] == "Conflict"
    unknown = client.post(f"/api/items/{items['private']}/@workflow/fly", json={}, headers=staff)
    assert unknown.status_code == 404 and unknown.json["type"] == "NotFound"
    invalid = client.get("/api/items?b_size=0", headers=staff)
    assert invalid.status_code == 422 and "b_size" in invalid.json["errors"]["query"]
    assert client.get("/api/nothing-here", headers=staff).json["type"] == "NotFound"
    with app.app_context():
        assert world.item(items["private"]).state == "assigned"  # nothing was written


def test_a_revoked_token_is_refused(app, world, client, items):
    headers = token(app, world, "office", "read")
    assert client.get("/api/items", headers=headers).status_code == 200
    with app.app_context():
        user = world.user("office")
        from portal.accounts.models import ApiToken

        revoke_token(Actor.of(user), user, db.session.scalar(sa.select(ApiToken.id)))
        db.session.commit()
    assert client.get("/api/items", headers=headers).status_code == 401
    assert client.get("/api/public/items", headers=headers).status_code == 401  # a bad token is never ignored


def test_lists_are_batched_with_links(app, world, client, items):
    office = token(app, world, "office", "read")
    first = client.get("/api/items?b_size=1", headers=office).json
    assert first["items_total"] == 2 and len(first["items"]) == 1
    second = client.get(first["batching"]["next"], headers=office).json
    assert ids(first) + ids(second) == [items["published"], items["private"]]
    assert "next" not in second["batching"] and second["batching"]["prev"] == first["batching"]["first"]


def test_search_as_the_pages_search(app, world, client, items):
    office = token(app, world, "office", "read")
    found = client.get("/api/@search?q=产业用房", headers=office).json
    assert ids(found) == [items["published"], items["private"]]
    assert found["items_total"] == 2
    (summary,) = client.get("/api/@search?q=修订", headers=office).json["items"][0]["snippets"][:1]
    assert summary["kind"] == "completion" and "<mark>修订</mark>" in summary["text"]
    assert ids(client.get("/api/public/@search?q=产业用房").json) == [items["published"]]
    refused = client.get("/api/@search?q=产", headers=office).json
    assert refused["problems"] and refused["problems"][0].startswith("“产”")


def test_the_api_is_rate_limited(app, world, client, items):
    app.config["API_RATE_LIMIT"] = "3 per minute"
    headers = token(app, world, "office", "read")
    statuses = [client.get("/api/items", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/items", headers=headers).json["type"] == "TooManyRequests"


def test_the_openapi_document_is_generated_and_documented_locally(app, client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    rules = {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    documented = {p.replace("{", "<").replace("}", ">") for p in spec["paths"]}
    as_rules = {r.replace("<int:", "<") for r in rules}
    assert as_rules == documented
    page = client.get("/api/docs")
    assert page.status_code == 200 and 'data-operation="get /api/items"' in page.text


#: Every API endpoint and who may call it: "public" (anyone), "token" (a token of either
#: scope), "write" (a write token). A new endpoint must be declared here before it ships.
ENDPOINTS = {
    "api.root": "public",
    "api.public_items": "public",
    "api.public_item": "public",
    "api.public_search": "public",
    "api.inspections": "token",
    "api.inspection": "token",
    "api.items": "token",
    "api.item": "token",
    "api.item_workflow": "token",
    "api.search": "token",
    "api.fire_transition": "write",
}


def test_every_api_endpoint_is_declared_and_anonymous_callers_get_401_where_a_token_is_needed(
    app, world, client, items
):
    found = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert set(found) == set(ENDPOINTS)
    values = {
        "item_id": items["published"],
        "inspection_id": world.inspections["single"],
        "transition_id": "submit",
    }
    read_only = token(app, world, "office", "read")
    for endpoint, needs in ENDPOINTS.items():
        rule = found[endpoint]
        method = "POST" if "POST" in rule.methods else "GET"
        path = rule.build({k: values[k] for k in rule.arguments})[1]
        anonymous = client.open(path, method=method, json={} if method == "POST" else None)
        assert anonymous.status_code == (200 if needs == "public" else 401), endpoint
        with_token = client.open(
            path, method=method, json={} if method == "POST" else None, headers=read_only
        )
        assert with_token.status_code == (403 if needs == "write" else 200), endpoint
