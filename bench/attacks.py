"""Rerun the security review's reproductions (issue 16) against a temporary app; print a table.

Each attack is sent as the review sent it, through the test client (CSRF tokens included) on a
fresh, migrated database with the test suite's small world (personas, two inspections); the
table says what came back and whether the defence held.

    .venv/bin/python bench/attacks.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/attacks.py --db sqlite

PostgreSQL: DATABASE_URL, or postgresql+psycopg://postgres@127.0.0.1:5432/rectify_attacks
(recreated).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/rectify_attacks"
FORMULA = "=cmd|' /C calc'!A0"
ATTACKER, OWNER = "203.0.113.9", "198.51.100.7"


# --- the app and its world ------------------------------------------------------------------


def make_world(url: str, instance: str):
    """A migrated app on `url` with the personas and inspections of tests/world.py."""
    from benchdb import migrated_app

    from portal.accounts.operations import create_department, create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.inspections.models import APPROVAL_DUAL, APPROVAL_SINGLE
    from portal.inspections.operations import create_category, create_inspection
    from portal.sharing.operations import grant_local_role
    from tests.conftest import TEST_PASSWORD
    from tests.helpers import Client
    from tests.world import PERSONAS, World

    app = migrated_app(url, instance)
    app.test_client_class = Client
    actor = Actor.system("attacks")
    with app.app_context():
        finance = create_department(actor, "财务科")
        users = {}
        for persona, roles in PERSONAS.items():
            department = finance if persona == "dept_editor" else None
            user = create_user(
                actor,
                login=persona,
                display_name=persona,
                password=TEST_PASSWORD,
                roles=roles,
                department=department,
            )
            users[persona] = user.id
        db.session.flush()
        world = World(app, users)
        for policy in (APPROVAL_SINGLE, APPROVAL_DUAL):
            inspection = create_inspection(
                actor,
                title=f"区科技创新局巡察整改（{policy}）",
                approval_policy=policy,
                party_secretary=world.user("secretary"),
            )
            category = create_category(actor, inspection, label="一", title="对于区委专题会议涉及问题的整改")
            grant_local_role(actor, inspection, "Editor", department=finance)
            world.inspections[policy], world.categories[policy] = inspection.id, category.id
        db.session.commit()
    return app, world


def signed_in(app, persona: str, address: str = "192.0.2.10"):
    from tests.conftest import TEST_PASSWORD

    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    assert client.login(persona, TEST_PASSWORD).status_code == 302, persona
    return client


def timed(call: Callable):
    t0 = time.perf_counter()
    result = call()
    return result, time.perf_counter() - t0


def count(app, model, *where) -> int:
    import sqlalchemy as sa

    from portal.core.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


# --- the attacks: each returns (what was sent, what came back, held?) -------------------------


def staff_edits_assignment(app, world):
    from tests.inspections.test_readable_history import _edit_form

    item_id = world.new_item(state="in_progress")
    with app.app_context():
        before = world.item(item_id)
        before = (before.responsible_leader_id, before.progress_override, before.money_recovered)
    other = world.users["leader_other"]
    data = _edit_form(
        world,
        item_id,
        responsible_leader_id=other,
        progress_override="100",
        money_recovered="999999",
        feedback_text="",
        public_summary="",
    )
    staff = signed_in(app, "staff_resp")
    response = staff.post_form(f"/items/{item_id}/edit", data)
    with app.app_context():
        after = world.item(item_id)
        after = (after.responsible_leader_id, after.progress_override, after.money_recovered)
    changed = [
        name for name, b, a in zip(("leader", "progress", "money"), before, after, strict=True) if a != b
    ]
    # the rest of the attack: submit, and the leader it named approves
    submitted = staff.post_form(f"/items/{item_id}/transitions/submit", {"comment": ""}).status_code
    approved = signed_in(app, "leader_other").post_form(
        f"/items/{item_id}/transitions/approve", {"comment": "同意"}
    )
    return (
        "staff POST /items/<id>/edit: responsible_leader_id=another leader, progress_override=100, "
        "money_recovered=999999; submit; that leader approves",
        f"edit HTTP {response.status_code}, changed: {', '.join(changed) or 'none'} (progress and money are "
        f"the staff's to report while worked on); submit {submitted}; the other leader's approve "
        f"HTTP {approved.status_code}",
        "leader" not in changed and approved.status_code == 403,
    )


def unlinked_staff_reads_internal_pages(app, world):
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.evidence.operations import add_evidence_file
    from portal.evidence.storage import FileStore
    from tests.evidence.test_evidence import PDF

    item_id = world.new_item(state="in_progress")
    with app.app_context():
        evidence = add_evidence_file(
            Actor.system("attacks"),
            world.item(item_id),
            FileStore(app.config["EVIDENCE_DIR"]),
            io.BytesIO(PDF),
            "内部材料.pdf",
            app.config["EVIDENCE_EXTENSIONS"],
        )
        db.session.commit()
        evidence_id = evidence.id
    for persona, transition in (
        ("staff_resp", "submit"),
        ("leader_resp", "approve"),
        ("leader_resp", "publish"),
    ):
        world.fire(persona, item_id, transition)
    client = signed_in(app, "staff_other")
    urls = (f"/items/{item_id}", f"/versions/item/{item_id}", f"/evidence/{evidence_id}/download")
    codes = [client.get(url).status_code for url in urls]
    public = app.test_client().get(f"/public/items/{item_id}").status_code
    return (
        "unlinked staff GET a published item's /items/<id>, /versions/item/<id>, "
        "non-public /evidence/<id>/download",
        f"HTTP {', '.join(map(str, codes))} (the public page: {public})",
        all(code in (403, 404) for code in codes),
    )


def hostile_diff(app, world):
    from tests.inspections.test_readable_history import _edit_form

    item_id = world.new_item()
    office = signed_in(app, "office")
    for text in ("ab" * 4000, "ba" * 3999 + "abc"):  # 8,000 repetitive characters, then nearly the same
        data = _edit_form(world, item_id, completion_summary=text, feedback_text="", public_summary="")
        assert office.post_form(f"/items/{item_id}/edit", data).status_code == 302
    auditor = signed_in(app, "auditor")
    versions, versions_s = timed(lambda: office.get(f"/versions/item/{item_id}"))
    log, log_s = timed(lambda: auditor.get("/audit/"))
    return (
        "8,000 repetitive characters edited twice: GET /versions/item/<id> and the auditor's /audit/",
        f"HTTP {versions.status_code} in {versions_s:.2f} s; HTTP {log.status_code} in {log_s:.2f} s",
        versions.status_code == log.status_code == 200 and max(versions_s, log_s) < 2,
    )


def huge_notice(app, world):
    from tests.notices.test_parser import NOTICE

    text = NOTICE.read_text(encoding="utf-8")
    text = text * (300_000 // len(text.encode()) + 1)
    while len(text[:-1000].encode()) >= 300_000:
        text = text[:-1000]
    response, seconds = timed(
        lambda: signed_in(app, "office").post_form("/inspections/import", {"text": text})
    )
    refused = "最多" in response.get_data(as_text=True)
    return (
        f"a {len(text.encode()) // 1000} KB notice POSTed to /inspections/import",
        f"HTTP {response.status_code} in {seconds:.2f} s, "
        + ("refused with its size limit" if refused else "parsed"),
        response.status_code < 500 and seconds < 2,
    )


def xlsx_formula(app, world):
    from openpyxl import load_workbook

    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.inspections.operations import update_document

    item_id = world.new_item()
    with app.app_context():
        update_document(Actor.system("attacks"), world.item(item_id), {"title": FORMULA})
        db.session.commit()
    response = signed_in(app, "office").get(f"/inspections/{world.inspections['single']}/ledger.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and "cmd|" in c.value]
    kinds = sorted({"formula" if c.data_type == "f" else "text" for c in cells})
    return (
        f"item title {FORMULA} in the ledger XLSX",
        f"HTTP {response.status_code}; the cell is {', '.join(kinds) or 'missing'}",
        kinds == ["text"],
    )


def csv_login(app, world):
    anonymous = app.test_client()
    anonymous.environ_base["REMOTE_ADDR"] = "192.0.2.99"
    anonymous.login(FORMULA, "whatever-password-1")
    response = signed_in(app, "auditor").post_form("/audit/export", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    cells = [cell for row in rows for cell in row if "cmd|" in cell and "login_failed" in ",".join(row)]
    live = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    return (
        f"login name {FORMULA} from an anonymous client, then the audit CSV",
        f"HTTP {response.status_code}; {len(cells)} cells carry it, {len(live)} start as a formula"
        + (f" (e.g. {cells[0][:30]!r})" if cells else ""),
        bool(cells) and not live,
    )


def blank_evidence(app, world):
    from portal.evidence.models import Evidence

    item_id = world.new_item(state="in_progress")
    staff = signed_in(app, "staff_resp")
    before = count(app, Evidence)
    note = staff.post_form(f"/items/{item_id}/evidence", {"note": "   \u3000 "})
    empty = staff.post_form(
        f"/items/{item_id}/evidence",
        {"note": "", "file": (io.BytesIO(b""), "")},
        content_type="multipart/form-data",
    )
    added = count(app, Evidence) - before
    return (
        "evidence: a note of spaces only; a file part with an empty filename",
        f"HTTP {note.status_code}, {empty.status_code}; evidence rows added: {added}",
        added == 0 and note.status_code < 500 and empty.status_code < 500,
    )


def nul_feedback(app, world):
    from portal.feedback.models import Feedback

    item_id = world.new_item(state="completed")
    world.fire("leader_resp", item_id, "publish")
    app.config["FEEDBACK_RATE_LIMIT"] = "1000 per minute"
    url = f"/public/inspections/{world.inspections['single']}/items/{item_id}/feedback"
    client = app.test_client()
    before = count(app, Feedback)
    codes = [
        client.post_form(url, {"kind": "not_rectified", **data}).status_code
        for data in (
            {"text": "会议记录\x00仍未归档", "name": "张三"},
            {"text": "仍未归档", "name": "张\x00三"},
        )
    ]
    return (
        "a NUL byte in anonymous feedback (text; name)",
        f"HTTP {', '.join(map(str, codes))}; feedback saved: {count(app, Feedback) - before}",
        all(code == 400 for code in codes) and count(app, Feedback) == before,
    )


def infinite_progress(app, world):
    from tests.security.test_bad_input import _ledger

    office = signed_in(app, "office")
    codes = []
    for value in ("inf%", "1e400%"):
        data = {"file": (io.BytesIO(_ledger(c9=value)), "台账.xlsx"), "title": "新台账"}
        codes.append(office.post_form("/inspections/import-ledger", data, content_type="multipart/form-data"))
    return (
        "a ledger with progress inf% (and 1e400%)",
        f"HTTP {', '.join(str(r.status_code) for r in codes)}",
        all(r.status_code == 400 and "不是有效的百分比" in r.get_data(as_text=True) for r in codes),
    )


def hostile_money(app, world):
    from portal.inspections.models import RectificationItem

    office = signed_in(app, "office")
    url = f"/inspections/{world.inspections['single']}/items/new"
    before = count(app, RectificationItem)
    answers = []
    for value in ("Infinity", "1e400", "9" * 30):
        data = {"category_id": "0", "title": "新的整改事项", "responsible_leader_id": "0", "staff_id": "0"}
        response = office.post_form(url, {**data, "department_id": "0", "money_to_recover": value})
        answers.append(f"{value if len(value) < 12 else f'{len(value)} digits'}: {response.status_code}")
    saved = count(app, RectificationItem) - before
    return (
        "money to recover Infinity, 1e400, 30 digits (new item)",
        f"HTTP {'; '.join(answers)}; items saved: {saved}",
        saved == 0,
    )


def weak_passwords(app, world):
    from portal.accounts.models import User

    admin = signed_in(app, "admin")
    answers = []
    for n, password in enumerate(("password12", "aaaaaaaaa1", "officeoffice1", " " * 12)):
        before = count(app, User)
        data = {"login": f"weak{n}", "display_name": "新同事", "email": "", "department_id": "0"}
        response = admin.post_form("/admin/users/new", {**data, "password": password, "confirm": password})
        saved = count(app, User) - before
        answers.append((repr(password) if password.strip() else "12 spaces", response.status_code, saved))
    return (
        "new account with password password12, aaaaaaaaa1, officeoffice1, 12 spaces",
        "; ".join(f"{p}: HTTP {code}{' ACCEPTED' if saved else ' refused'}" for p, code, saved in answers),
        not any(saved for _p, _c, saved in answers),
    )


def admin_lockout(app, world):
    from tests.conftest import TEST_PASSWORD

    attacker = app.test_client()
    attacker.environ_base["REMOTE_ADDR"] = ATTACKER
    for _ in range(5):
        attacker.login("admin", "wrong-password-1")
    sixth = attacker.login("admin", TEST_PASSWORD)
    owner = app.test_client()
    owner.environ_base["REMOTE_ADDR"] = OWNER
    response = owner.login("admin", TEST_PASSWORD)
    return (
        "5 wrong passwords for admin from one anonymous client, then admin signs in from elsewhere",
        f"attacker's 6th try (right password): HTTP {sixth.status_code}; "
        f"the owner: HTTP {response.status_code}",
        response.status_code == 302 and sixth.status_code != 302,
    )


ATTACKS = [
    staff_edits_assignment,
    unlinked_staff_reads_internal_pages,
    hostile_diff,
    huge_notice,
    xlsx_formula,
    csv_login,
    blank_evidence,
    nul_feedback,
    infinite_progress,
    hostile_money,
    weak_passwords,
    admin_lockout,
]


# --- running --------------------------------------------------------------------------------


def run(label: str, url: str) -> list[tuple[str, str, str]]:
    instance = tempfile.mkdtemp(prefix="rectify-attacks-")
    try:
        app, world = make_world(url, instance)
        rows = []
        for attack in ATTACKS:
            try:
                sent, seen, held = attack(app, world)
            except Exception as exc:  # a crash of the attack is a finding too: show it
                sent, seen, held = attack.__name__, f"{type(exc).__name__}: {exc}"[:160], False
            rows.append((sent, seen, "held" if held else "FAILED"))
        from portal.core.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return rows
    finally:
        shutil.rmtree(instance, ignore_errors=True)


def print_table(label: str, rows: list[tuple[str, str, str]]) -> None:
    print(f"\n{label}")
    print("| attack | result | verdict |")
    print("|---|---|---|")
    for sent, seen, verdict in rows:
        print(f"| {sent} | {seen.replace('|', '¦')} | {verdict} |")
    held = sum(verdict == "held" for *_x, verdict in rows)
    print(f"{held} of {len(rows)} held")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    failed = False
    if args.db in ("sqlite", "both"):
        folder = tempfile.mkdtemp(prefix="rectify-attacks-db-")
        try:
            rows = run("sqlite", f"sqlite:///{folder}/attacks.db")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        print_table("SQLite", rows)
        failed |= any(v != "held" for *_x, v in rows)
    if args.db in ("postgresql", "both"):
        url = os.environ.get("DATABASE_URL", PG_DEFAULT)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        rows = run("postgresql", url)
        print_table("PostgreSQL", rows)
        failed |= any(v != "held" for *_x, v in rows)
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
