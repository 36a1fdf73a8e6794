"""Who may open what: one declared table over roles × pages, checked exactly.

There are no workflow states yet; the workflow issue extends this table with states.
"""

import pytest

ROLES = ("admin", "office", "leader", "staff", "auditor")
EVERYONE = frozenset(ROLES)

#: (method, path template) -> roles that get 200. Anonymous users are sent to the login page.
ACCESS = {
    ("GET", "/account"): EVERYONE,
    ("GET", "/admin/users"): {"admin"},
    ("GET", "/admin/users/new"): {"admin"},
    ("GET", "/admin/users/{user_id}"): {"admin"},
    ("GET", "/admin/departments"): {"admin", "office"},
    ("GET", "/audit/"): {"auditor", "leader"},  # leaders read the register; nothing else there
    ("GET", "/audit/verify"): {"auditor"},
    ("GET", "/audit/verify-script"): {"auditor"},
    ("GET", "/workflows/"): EVERYONE,
    ("GET", "/inspections/"): EVERYONE,
    ("GET", "/inspections/new"): {"office"},
    ("GET", "/inspections/import"): {"office"},
    ("GET", "/inspections/import-ledger"): {"office"},
    ("GET", "/worklists/awaiting_review"): EVERYONE,
    ("GET", "/worklists/my_items"): EVERYONE,
    ("GET", "/worklists/overdue"): EVERYONE,
    ("GET", "/worklists/due_soon"): EVERYONE,
    ("GET", "/feedback/"): {"office", "auditor"},
    ("GET", "/notifications"): EVERYONE,  # one's own notifications
    ("GET", "/dashboard"): {"office", "leader", "auditor"},  # 督查督办驾驶舱: leaders see their scope
    ("GET", "/dashboard.xlsx"): {"office", "leader", "auditor"},
    ("GET", "/search"): EVERYONE,  # what it finds is each one's own (tests/search/)
}
# Pages of documents depend on local roles and states too; their tables are in
# tests/core/test_permission_table.py and tests/inspections/test_access.py.
DOCUMENT_PAGES = (
    "/items/",
    "/audit/items/",
    "/categories/",
    "/measures/",
    "/evidence/",
    "/versions/",
    "/sharing/",
    "/inspections/",
    "/worklists/",
)

PUBLIC = ("/", "/login", "/public/", "/public/feedback/lookup", "/public/search")
# The second step of signing in (TOTP or a recovery code): only after the password step, so
# anyone else is sent back to /login.
SIGN_IN_STEPS = ("/login/verify",)
# Liveness and readiness probes, open to monitoring; what they tell is tested in test_health.py.
PROBES = ("/healthz", "/readyz")
# Public pages of published content; what they may show is tested in tests/public/.
PUBLIC_CONTENT = ("/public/inspections/", "/public/items/", "/public/evidence/")
# The REST API: tokens, not sessions; who may call what is in tests/api/ and, over roles ×
# states × transitions, in tests/core/test_permission_table.py (test_api_matches_table).
API = ("/api/",)


def cases():
    for (method, path), allowed in ACCESS.items():
        for role in ROLES:
            yield pytest.param(method, path, role, role in allowed, id=f"{role}-{method}-{path}")


@pytest.mark.parametrize(("method", "path", "role", "allowed"), list(cases()))
def test_role_access(app, login_as, make_user, method, path, role, allowed):
    target_id = make_user("target", "staff")
    client = login_as(f"{role}1", role)
    response = client.open(path.format(user_id=target_id), method=method)
    assert response.status_code == (200 if allowed else 403)


@pytest.mark.parametrize(("method", "path"), list(ACCESS))
def test_anonymous_is_sent_to_login(client, method, path):
    response = client.open(path.format(user_id=1), method=method)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", PUBLIC)
def test_public_pages_open_to_anonymous(client, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PROBES)
def test_probes_answer_anonymous_callers_with_their_verdict_alone(client, path):
    response = client.get(path)
    assert response.status_code in (200, 503) and set(response.json) == {"status"}


@pytest.mark.parametrize("path", SIGN_IN_STEPS)
def test_the_second_sign_in_step_needs_the_first(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_every_protected_page_is_in_the_table(app):
    """A new page must be declared here before it ships."""
    declared = (
        {path.split("{")[0] for _method, path in ACCESS}
        | set(PUBLIC)
        | set(SIGN_IN_STEPS)
        | set(DOCUMENT_PAGES)
        | set(PUBLIC_CONTENT)
        | set(PROBES)
    )
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "bootstrap.static"):
            continue
        if rule.rule.startswith(API):
            continue  # declared in tests/api/
        assert rule.rule.split("<")[0] in declared, f"{rule.rule} is missing from ACCESS"


POSTS = {
    "/admin/users/new": {"admin"},
    "/admin/users/{user_id}": {"admin"},
    "/admin/users/{user_id}/password": {"admin"},
    "/admin/users/{user_id}/mfa-reset": {"admin"},
    "/admin/departments": {"admin", "office"},
    "/search/saved": EVERYONE,  # one's own saved searches
}


@pytest.mark.parametrize(("path", "role"), [(p, r) for p in POSTS for r in ROLES])
def test_writes_are_refused_server_side(app, login_as, make_user, path, role):
    """Roles outside the table get 403 on POST even with a valid token (nothing hidden by UI)."""
    target_id = make_user("target", "staff")
    client = login_as(f"{role}1", role)
    response = client.post_form(path.format(user_id=target_id), {})
    if role in POSTS[path]:
        # allowed, and the empty form is refused with messages (on its page, or as a bad request)
        assert response.status_code in (200, 400)
        assert "<form" in response.text
    else:
        assert response.status_code == 403
