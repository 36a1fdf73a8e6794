"""The REST API through the test client: tokens, the permission filter, @workflow with the
web's fire(), batching, search, errors in JSON, the rate limit and the OpenAPI document."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from portal.accounts.models import Department
from portal.accounts.tokens import create_token, revoke_token
from portal.audit.chain import Actor
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from tests.evidence.test_evidence import PDF
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
#: scope), "write" (a write token), or the global roles whose token may call it (as its page).
#: A new endpoint must be declared here before it ships.
ENDPOINTS = {
    "api.root": "public",
    "api.public_items": "public",
    "api.public_item": "public",
    "api.public_search": "public",
    "api.inspections": "token",
    "api.inspection": "token",
    "api.inspection_categories": "token",
    "api.category": "token",
    "api.items": "token",
    "api.item": "token",
    "api.edit_item": "write",
    "api.item_measures": "token",
    "api.measure": "token",
    "api.item_evidence": "token",
    "api.evidence": "token",
    "api.evidence_download": "token",
    "api.feedback": "token",
    "api.feedback_one": "token",
    "api.departments": "token",
    "api.department_one": "token",
    "api.item_workflow": "token",
    "api.search": "token",
    "api.fire_transition": "write",
    "api.users": {"admin"},
    "api.user": {"admin"},  # (and the account's holder: test_users_are_for_admins_and_oneself)
    "api.audit_log": {"auditor"},
}


@pytest.fixture
def things(app, world, items):
    """One of each object the API reads: a measure, a file, a piece of feedback."""
    from portal.evidence.operations import add_evidence_file
    from portal.evidence.storage import FileStore
    from portal.feedback.models import Feedback
    from portal.feedback.operations import submit_feedback

    measure = world.add_measure(items["published"])
    with app.app_context():
        item = world.item(items["published"])
        store = FileStore(app.config["EVIDENCE_DIR"])
        evidence = add_evidence_file(
            Actor.system("test"), item, store, io.BytesIO(PDF), "整改报告.pdf", ("pdf",), note="报告"
        )
        feedback, _code = submit_feedback(
            item.inspection, item, kind="clue", text="食堂仍未公示", name="张三", phone="13912345678"
        )
        db.session.commit()
        found = {
            "measure_id": measure,
            "evidence_id": evidence.id,
            "feedback_id": feedback.id,
            "category_id": item.category_id,
            "department_id": db.session.scalar(sa.select(Department.id)),
            "user_id": world.users["office"],
        }
        assert db.session.get(Feedback, feedback.id).moderation_state == "pending"
    return found


def _call(client, rule, values, headers=None):
    method = next(m for m in ("POST", "PATCH", "GET") if m in rule.methods)
    path = rule.build({k: values[k] for k in rule.arguments})[1]
    return client.open(path, method=method, json={} if method != "GET" else None, headers=headers)


def test_every_api_endpoint_is_declared_and_answers_as_its_table_row(app, world, client, items, things):
    found = {r.endpoint: r for r in app.url_map.iter_rules() if r.endpoint.startswith("api.")}
    assert set(found) == set(ENDPOINTS)
    values = {
        **things,
        "item_id": items["published"],
        "inspection_id": world.inspections["single"],
        "transition_id": "submit",
    }
    tokens = {p: token(app, world, p, "read") for p in ("office", "admin", "auditor")}
    for endpoint, needs in ENDPOINTS.items():
        rule = found[endpoint]
        anonymous = _call(client, rule, values)
        assert anonymous.status_code == (200 if needs == "public" else 401), endpoint
        for persona, headers in tokens.items():
            response = _call(client, rule, values, headers)
            if needs == "write":
                expected = 403
            elif isinstance(needs, set):
                oneself = "user_id" in rule.arguments and values["user_id"] == world.users[persona]
                expected = 200 if persona in needs or oneself else 403
            else:
                expected = 404 if persona == "admin" and endpoint in ADMIN_UNSEEN else 200
            assert response.status_code == expected, (endpoint, persona, response.get_json(silent=True))


#: What an admin's token does not see: the items and what is in them (admins see no item, as
#: on the pages: test_permission_table.CAN_SEE).
ADMIN_UNSEEN = {
    "api.item",
    "api.item_workflow",
    "api.item_measures",
    "api.item_evidence",
    "api.inspection",
    "api.inspection_categories",
    "api.category",
    "api.measure",
    "api.evidence",
    "api.evidence_download",
    "api.feedback_one",
}


def test_categories_measures_and_evidence_with_its_file(app, world, client, items, things):
    office = token(app, world, "office", "read")
    inspection = client.get(f"/api/inspections/{world.inspections['single']}", headers=office).json
    categories = client.get(inspection["categories"], headers=office).json
    assert [c["id"] for c in categories["items"]] == [things["category_id"]]
    category = client.get(categories["items"][0]["@id"], headers=office).json
    assert category["inspection"]["id"] == inspection["id"]
    assert ids(client.get(category["items"], headers=office).json) == [items["published"], items["private"]]
    item = client.get(f"/api/items/{items['published']}", headers=office).json
    (measure,) = item["measures"]
    assert client.get(measure["@id"], headers=office).json["item"]["id"] == item["id"]
    listed = client.get(f"/api/items/{item['id']}/measures", headers=office).json
    assert [m["id"] for m in listed["items"]] == [things["measure_id"]]
    evidence = client.get(item["evidence"], headers=office).json["items"]
    assert [(e["kind"], e["filename"]) for e in evidence] == [("note", None), ("file", "整改报告.pdf")]
    assert evidence[0]["@download"] is None
    download = client.get(evidence[1]["@download"], headers=office)
    assert download.status_code == 200 and download.data == PDF
    assert "no-store" in download.headers["Cache-Control"]
    assert "attachment" in download.headers["Content-Disposition"]
    assert (
        client.get(f"/api/evidence/{evidence[1]['id']}", headers=office).json["sha256"]
        == evidence[1]["sha256"]
    )
    stranger = token(app, world, "staff_other", "read")  # sees no item: nothing in it either
    for path in (evidence[1]["@id"], evidence[1]["@download"], measure["@id"], item["evidence"]):
        assert client.get(path, headers=stranger).status_code == 404, path


def test_a_damaged_file_is_refused_with_the_reason(app, world, client, items, things):
    from portal.evidence.models import Evidence

    with app.app_context():
        key = db.session.get(Evidence, things["evidence_id"]).storage_key
    from pathlib import Path

    stored = next(Path(app.config["EVIDENCE_DIR"]).rglob(key))
    stored.write_bytes(b"%PDF-1.4 tampered")
    response = client.get(
        f"/api/evidence/{things['evidence_id']}/@download", headers=token(app, world, "office")
    )
    assert response.status_code == 409
    assert response.json == {"type": "Conflict", "message": "存储的文件与其校验值不符，请告知巡察办。"}


def test_feedback_contact_details_are_the_office_s_and_auditors_only(app, world, client, items, things):
    office = client.get("/api/feedback", headers=token(app, world, "office", "read")).json
    (entry,) = office["items"]
    assert entry["contact"] == {"name": "张三", "phone": "13912345678", "email": ""}
    assert entry["state"]["id"] == "pending" and entry["item"]["id"] == items["published"]
    auditor = client.get(
        f"/api/feedback/{things['feedback_id']}", headers=token(app, world, "auditor", "read")
    )
    assert auditor.json["contact"]["name"] == "张三"
    # a leader reads published feedback only, never whom it came from
    leader = token(app, world, "leader_resp", "read")
    assert client.get("/api/feedback", headers=leader).json["items"] == []
    assert client.get(f"/api/feedback/{things['feedback_id']}", headers=leader).status_code == 404
    with app.app_context():  # the office publishes it, through the moderation workflow
        from portal.core.transitions import fire
        from portal.feedback.models import Feedback

        fire(Actor.of(world.user("office")), db.session.get(Feedback, things["feedback_id"]), "publish")
        db.session.commit()
    (shown,) = client.get("/api/feedback?state=published", headers=leader).json["items"]
    assert "contact" not in shown and shown["text"] == "食堂仍未公示"
    assert client.get("/api/feedback?state=nonsense", headers=leader).status_code == 422


def test_users_are_for_admins_and_oneself(app, world, client, items):
    staff = token(app, world, "staff_resp", "read")
    me = client.get(f"/api/users/{world.users['staff_resp']}", headers=staff).json
    assert me["login"] == "staff_resp" and me["roles"] == ["staff"]
    other = client.get(f"/api/users/{world.users['office']}", headers=staff)
    assert other.status_code == 403 and other.json["message"] == "您的角色不能使用此接口。"
    admin = token(app, world, "admin", "read")
    listing = client.get("/api/users?b_size=100", headers=admin).json
    assert {u["login"] for u in listing["items"]} == set(world.users)
    assert client.get("/api/users/999999", headers=admin).status_code == 404
    item = client.get(f"/api/items/{items['private']}", headers=token(app, world, "office", "read")).json
    assert item["staff"]["@id"].endswith(f"/api/users/{world.users['staff_resp']}")


def test_the_audit_log_is_the_auditors_and_chained(app, world, client, items):
    assert client.get("/api/@audit-log", headers=token(app, world, "leader_resp", "read")).status_code == 403
    auditor = token(app, world, "auditor", "read")
    page = client.get("/api/@audit-log?b_size=3", headers=auditor).json
    events = page["items"]
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)
    assert all(newer["prev_hash"] == older["hash"] for newer, older in zip(events, events[1:], strict=False))
    older = client.get(page["batching"]["next"], headers=auditor).json["items"]
    assert older[0]["hash"] == events[-1]["prev_hash"]
    starts = client.get("/api/@audit-log?action=workflow.start&object_type=item", headers=auditor).json
    assert [e["object_id"] for e in starts["items"]] == [str(items["published"])]
    assert starts["items"][0]["payload"]["to"] == "in_progress"
    assert client.get("/api/@audit-log?object_type=spaceship", headers=auditor).status_code == 422


def _patch(client, item_id, body, headers):
    return client.patch(f"/api/items/{item_id}", json=body, headers=headers)


def test_patch_edits_through_the_webs_update_with_the_same_audit_events(app, world, client, signed_in):
    item_id = world.new_item(state="in_progress")
    staff = token(app, world, "staff_resp")
    with app.app_context():
        version = world.item(item_id).version
    before = len(audit_actions(app))
    response = _patch(
        client, item_id, {"completion_summary": "已印发新规定。", "change_note": "补充成效"}, staff
    )
    assert response.status_code == 200, response.json
    assert response.json["completion_summary"] == "已印发新规定。"
    assert response.json["version"] == version + 1
    api_events = audit_actions(app)[before:]
    other = world.new_item(state="in_progress")
    with app.app_context():
        from tests.core.test_permission_table import _edit_form

        form = {**_edit_form(world.item(other)), "completion_summary": "已印发新规定。"}
    web = signed_in("staff_resp")
    before = len(audit_actions(app))
    assert web.post_form(f"/items/{other}/edit", form).status_code == 302
    assert audit_actions(app)[before:] == api_events == ["item.update"]


def test_patch_refusals_say_why_and_change_nothing(app, world, client):
    item_id = world.new_item(state="in_progress")
    staff = token(app, world, "staff_resp")
    refused = _patch(client, item_id, {"responsible_leader_id": world.users["leader_other"]}, staff)
    assert refused.status_code == 403 and "责任领导" in refused.json["message"]
    office = token(app, world, "office")
    wrong = _patch(client, item_id, {"money_recovered": "-1", "progress_override": 101}, office)
    assert wrong.status_code == 422
    assert set(wrong.json["errors"]["json"]) == {"money_recovered", "progress_override"}
    not_staff = _patch(client, item_id, {"staff_id": world.users["leader_other"], "category_id": 999}, office)
    assert not_staff.status_code == 422 and set(not_staff.json["errors"]["json"]) == {
        "staff_id",
        "category_id",
    }
    assert _patch(client, item_id, {"state": "completed"}, office).status_code == 422
    assert _patch(client, item_id, {"title": ""}, office).status_code == 422
    with app.app_context():
        version = world.item(item_id).version
    seen = _patch(client, item_id, {"title": "新标题", "version": version}, office)
    assert seen.status_code == 200  # the version seen is the current one
    again = _patch(client, item_id, {"title": "又一标题", "version": version}, office)
    assert again.status_code == 409 and again.json["type"] == "Conflict"
    with app.app_context():
        item = world.item(item_id)
        assert (item.title, item.responsible_leader_id) == ("新标题", world.users["leader_resp"])
