"""The auditor's workspace through HTTP: the log's filters and pages, exports, verification,
the complete history of an item."""

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from portal.audit.chain import chain_head
from portal.audit.models import AuditEvent
from portal.auditing import log
from portal.core.extensions import db
from portal.demo.cli import demo_password
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.inspections.models import RectificationItem
from tests.conftest import TEST_PASSWORD
from tests.helpers import count_statements, count_writes, render_every_time

SCRIPT = log.__file__.replace("log.py", "verify_export.py")


@pytest.fixture
def app(demo_app):
    """The workspace is read on the demo content (a copy of the session's demo database)."""
    return demo_app


@pytest.fixture
def auditor(app, client):
    assert client.login("auditor", demo_password("auditor")).status_code == 302
    return client


def seqs(response) -> list[int]:
    return [int(s) for s in re.findall(r'<tr data-seq="(\d+)"', response.get_data(as_text=True))]


def db_seqs(app, *conditions) -> list[int]:
    with app.app_context():
        return list(
            db.session.scalars(sa.select(AuditEvent.seq).where(*conditions).order_by(AuditEvent.seq.desc()))
        )


def item_with_versions(app) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(AuditEvent.object_id)
            .where(AuditEvent.action == "item.update")
            .order_by(AuditEvent.seq)
            .limit(1)
        )


def test_unfiltered_pages_walk_the_whole_log_by_keyset(app, auditor, monkeypatch):
    monkeypatch.setattr(log, "PAGE_SIZE", 40)
    seen, url, pages = [], "/audit/", 0
    while url:
        response = auditor.get(url)
        assert response.status_code == 200
        seen += seqs(response)
        pages += 1
        match = re.search(r'href="([^"]+)" id="older"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
    assert seen == db_seqs(app)
    assert pages == -(-len(seen) // 40)
    # and back again, newer from an older page
    middle = seen[45]
    body = auditor.get(f"/audit/?before={middle}").get_data(as_text=True)
    newer = re.search(r'href="([^"]+)" id="newer"', body).group(1).replace("&amp;", "&")
    assert seqs(auditor.get(newer)) == [s for s in seen if s >= middle][-40:]


def walk(client, url, link_id):
    """Follow `older` or `newer` links from `url`; return the seqs of every page, in order."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200
        pages.append(seqs(response))
        match = re.search(rf'href="([^"]+)" id="{link_id}"', response.get_data(as_text=True))
        url = match.group(1).replace("&amp;", "&") if match else None
        assert len(pages) < 500
    return pages


@pytest.mark.parametrize(("chunk", "budget"), [(25_000, 0.04), (7, 0.0), (3, 10.0)])
def test_combined_filters_search_in_bounded_stretches(app, auditor, monkeypatch, chunk, budget):
    """Two filters that rarely meet are searched a stretch at a time; following the links
    still visits every match exactly once, in order, both ways."""
    monkeypatch.setattr(log, "PAGE_SIZE", 4)
    monkeypatch.setattr(log, "SCAN_CHUNK", chunk)
    monkeypatch.setattr(log, "SCAN_BUDGET", budget)
    query = "inspection=1&action=workflow.submit"
    expected = db_seqs(app, AuditEvent.inspection_id == 1, AuditEvent.action == "workflow.submit")
    assert len(expected) > 4
    pages = walk(auditor, f"/audit/?{query}", "older")
    assert [s for page in pages for s in page] == expected
    assert all(len(page) <= 4 for page in pages)
    if chunk == 7 and budget == 0.0:
        body = auditor.get(f"/audit/?{query}").get_data(as_text=True)
        assert 'id="searched"' in body  # says where it stopped
    # from the oldest match back up to the newest
    back = walk(auditor, f"/audit/?{query}&before={expected[-1]}", "newer")
    assert sorted({s for page in back for s in page}, reverse=True) == expected


@pytest.mark.parametrize("name", ["actor", "action", "object", "inspection", "dates", "combined"])
def test_each_filter_matches_the_database(app, auditor, name):
    item_id = item_with_versions(app)
    today = datetime.now().date()
    cases = {
        "actor": ("actor=staff", [AuditEvent.actor == "staff"]),
        "action": ("action=workflow.approve", [AuditEvent.action == "workflow.approve"]),
        "object": (
            f"object_type=item&object_id={item_id}",
            [AuditEvent.object_type == "item", AuditEvent.object_id == item_id],
        ),
        "inspection": ("inspection=1", [AuditEvent.inspection_id == 1]),
        "dates": (f"since={today - timedelta(days=1)}&until={today + timedelta(days=1)}", []),
        "combined": (
            "inspection=1&actor=staff&action=measure.done&object_type=measure",
            [
                AuditEvent.inspection_id == 1,
                AuditEvent.actor == "staff",
                AuditEvent.action == "measure.done",
                AuditEvent.object_type == "measure",
            ],
        ),
    }
    query, conditions = cases[name]
    expected = db_seqs(app, *conditions)[: log.PAGE_SIZE]
    assert expected, "the demo has events for every case"
    response = auditor.get(f"/audit/?{query}")
    assert response.status_code == 200
    assert seqs(response) == expected


def test_date_range_outside_the_events_is_empty(app, auditor):
    response = auditor.get("/audit/?since=2001-01-01&until=2001-12-31")
    assert seqs(response) == []
    assert "没有符合条件的事件" in response.get_data(as_text=True)


def test_date_range_follows_the_portal_time_zone(app, auditor, monkeypatch):
    """A day is a day in Beijing time: an event at 17:00 UTC belongs to the next day."""
    from portal.audit import chain

    stamp = (datetime.now() + timedelta(days=2)).replace(hour=17, minute=0, second=0)
    monkeypatch.setattr(chain, "utcnow", lambda: stamp)
    with app.app_context():
        seq = chain.record_event(chain.Actor(None, "clock"), "test.clock", "user", 1).seq
        db.session.commit()
    utc_day, beijing_day = stamp.date(), stamp.date() + timedelta(days=1)
    assert seq not in seqs(auditor.get(f"/audit/?since={utc_day}&until={utc_day}"))
    assert seqs(auditor.get(f"/audit/?since={beijing_day}&until={beijing_day}")) == [seq]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=2026-13-01", "请按 YYYY-MM-DD 格式填写日期"),
        ("since=2026-11-02&until=2026-11-01", "结束日期早于开始日期"),
        ("object_id=5", "请同时选择对象类型"),
        ("object_type=spaceship", "未知的对象类型"),
        ("inspection=abc", "没有这个巡察"),
        ("inspection=999", "没有这个巡察"),
    ],
)
def test_bad_filters_get_a_message_and_keep_what_was_typed(auditor, query, message):
    response = auditor.get(f"/audit/?{query}&actor=staff")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert seqs(response) == []
    assert 'id="filter-invalid"' in body
    assert message in body
    assert 'value="staff"' in body


def test_edits_show_their_values_and_link_to_their_diff_with_seq_and_hash(app, auditor):
    item_id = item_with_versions(app)
    with app.app_context():
        event = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "item.update", AuditEvent.object_id == item_id)
        )
        change = json.loads(event.payload)["changes"]
    body = auditor.get(f"/audit/?object_type=item&object_id={item_id}").get_data(as_text=True)
    row = body[body.index(f'<tr data-seq="{event.seq}"') :]
    row = row[: row.find("<tr data-seq=", 10) if "<tr data-seq=" in row[10:] else None]
    field, values = next(iter(change.items()))
    # the field in words, as the edit form names it, with its stored key beside it
    with app.test_request_context(), force_locale("zh"):  # as the page speaks
        words = log.payload_label(field)
    named = f'<span title="{field}" data-key="{field}">{words}</span>'
    assert words and words != field and named in row
    assert '<ins class="diff-insert">' in row  # the new value, whole (no diff on this page)
    assert event.hash in row and event.prev_hash in row
    assert f'href="/audit/?event={event.seq}" data-diff-link' in row
    page = auditor.get(f"/audit/?event={event.seq}").get_data(as_text=True)
    assert named in page and '<ins class="diff-insert">' in page


#: A register name lookup: one page's objects of one type, by id.
NAME_LOOKUP = re.compile(r"FROM (\w+)\s.*WHERE \1\.id IN \(", re.S)


def statements(app, client, url) -> list[str]:
    """The statements of the page's second request (the first keeps the menu's counts with the
    figures for this state of the data, as a user's first page does)."""
    render_every_time(app)
    with app.app_context():
        engine = db.engine
    assert client.get(url).status_code == 200
    with count_statements(engine) as seen:
        assert client.get(url).status_code == 200
    return seen


def test_log_page_statements_do_not_grow_with_the_log(app, auditor, monkeypatch):
    counts, lookups = [], []
    for url in ("/audit/", "/audit/?actor=staff", "/audit/?inspection=1&since=2020-01-01"):
        seen = statements(app, auditor, url)
        names = [m.group(1) for m in map(NAME_LOOKUP.search, seen) if m]
        counts.append(len(seen) - len(names))
        lookups.append(names)
    # the page's queries, plus one probe of the time index per end of a date range
    assert counts[0] == counts[1] and counts[2] <= counts[0] + 1, counts
    # and the objects' names: one query per object type on the page, not one per event
    assert all(len(names) == len(set(names)) <= 6 for names in lookups), lookups
    assert {"items", "measures"} <= set(lookups[1])
    # a page ten times longer asks the same questions
    monkeypatch.setattr(log, "PAGE_SIZE", 5)
    short = statements(app, auditor, "/audit/?object_type=measure")
    monkeypatch.setattr(log, "PAGE_SIZE", 50)
    long = statements(app, auditor, "/audit/?object_type=measure")
    assert len(short) == len(long) and sum(bool(NAME_LOOKUP.search(s)) for s in long) == 1


# --- exports --------------------------------------------------------------------------------


def export(client, fmt, **filters):
    response = client.post_form("/audit/export", {"format": fmt, **filters})
    assert response.status_code == 200, response.status_code
    return response


def test_jsonl_export_matches_the_rows_and_is_audited(app, auditor, tmp_path):
    with app.app_context():
        before_seq = chain_head()[0]
    response = export(auditor, "jsonl")
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(1, before_seq + 2))
    last = records[-1]
    assert (last["action"], last["actor"]) == ("audit.export", "auditor")
    assert json.loads(last["payload"]) == {"format": "jsonl", "filter": {}}
    with app.app_context():
        stored = db.session.get(AuditEvent, 7)
        assert (records[6]["hash"], records[6]["prev_hash"], records[6]["payload"]) == (
            stored.hash,
            stored.prev_hash,
            stored.payload,
        )
        head = chain_head()[1]
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok = run_script(path, "--head", head)
    assert ok.returncode == 0, ok.stderr
    assert f"OK: {len(records)} events (a complete chain from seq 1)" in ok.stdout


def run_script(path, *args):
    # -I -S: isolated, no site-packages: the script needs the standard library only.
    return subprocess.run(
        [sys.executable, "-I", "-S", SCRIPT, str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("where", ["payload", "actor", "hash", "at"])
def test_one_changed_byte_fails_the_standalone_check(app, auditor, tmp_path, where):
    data = export(auditor, "jsonl", object_type="item", object_id=item_with_versions(app)).get_data()
    lines = data.decode().splitlines()
    assert run_script(_write(tmp_path, data)).returncode == 0
    target = json.loads(lines[1])
    value = json.dumps(target[where], ensure_ascii=False)
    start = data.index(f'"{where}":{value}'.encode(), data.index(lines[1].encode()))
    position = next(i for i in range(start + len(where) + 3, len(data)) if chr(data[i]).isalnum())
    changed = bytearray(data)
    changed[position] = ord("1") if data[position] != ord("1") else ord("2")  # one byte
    result = run_script(_write(tmp_path, bytes(changed)))
    assert result.returncode == 1
    assert f"line 2, seq {target['seq']}" in result.stderr


def _write(tmp_path, data: bytes):
    path = tmp_path / "export.jsonl"
    path.write_bytes(data)
    return path


def test_removed_line_breaks_the_link(app, auditor, tmp_path):
    lines = export(auditor, "jsonl").get_data(as_text=True).splitlines()
    del lines[3]
    path = tmp_path / "gap.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    with app.app_context():
        head = chain_head()[1]
    result = run_script(path, "--head", head)
    assert result.returncode == 0  # a gap looks like a filtered selection...
    assert "a filtered selection" in result.stdout  # ...and says so
    lines_out_of_order = lines[:2] + [lines[3], lines[2]] + lines[4:]
    path.write_text("\n".join(lines_out_of_order), encoding="utf-8")
    assert run_script(path).returncode == 1


def test_csv_export_is_filtered_and_has_the_chain_columns(app, auditor):
    response = export(auditor, "csv", actor="staff", action="workflow.submit")
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    expected = sorted(db_seqs(app, AuditEvent.actor == "staff", AuditEvent.action == "workflow.submit"))
    assert [int(r["seq"]) for r in rows] == expected
    zone = app.config["BABEL_DEFAULT_TIMEZONE"]
    assert list(rows[0]) == [
        *("at_utc" if c == "at" else c for c in log.EXPORT_COLUMNS[:2]),
        f"time ({zone})",
        *log.EXPORT_COLUMNS[2:],
    ]
    # the UTC time as hashed, and the same moment as the page shows it, in the named zone
    at = datetime.fromisoformat(rows[0]["at_utc"].removesuffix("Z")).replace(tzinfo=UTC)
    assert rows[0][f"time ({zone})"] == at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S")
    with app.app_context():
        exported = db.session.scalar(
            sa.select(AuditEvent).where(AuditEvent.action == "audit.export").order_by(AuditEvent.seq.desc())
        )
        assert json.loads(exported.payload)["filter"] == {"actor": "staff", "action": "workflow.submit"}
        stored = db.session.get(AuditEvent, expected[0])
        assert (rows[0]["hash"], rows[0]["payload"]) == (stored.hash, stored.payload)


def test_bad_export_request_writes_nothing_and_explains(app, auditor):
    with app.app_context():
        engine = db.engine
    with count_writes(engine) as writes:
        response = auditor.post_form(
            "/audit/export", {"format": "xlsx", "actor": "staff"}, follow_redirects=True
        )
    assert writes == []
    assert "导出未开始" in response.get_data(as_text=True)
    assert 'value="staff"' in response.get_data(as_text=True)


def other_client(app, make_user, role):
    make_user(f"{role}9", role)
    other = app.test_client()
    assert other.login(f"{role}9", TEST_PASSWORD).status_code == 302
    return other


def test_export_needs_csrf_and_the_auditor_role(app, auditor, make_user):
    assert auditor.post("/audit/export", data={"format": "csv"}).status_code == 400
    office = other_client(app, make_user, "office")
    assert office.post_form("/audit/export", {"format": "csv"}).status_code == 403


# --- verification ---------------------------------------------------------------------------


def test_verification_page_runs_records_and_shows_the_result(app, auditor, runner):
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    body = auditor.get("/audit/verify").get_data(as_text=True)
    assert "尚未在本页运行过核验" in body
    assert 'id="checkpoint"' in body and "有效" in body
    response = auditor.post_form("/audit/verify", {"scope": "all"}, follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "核验通过" in body
    assert 'data-ok="true"' in body
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit.verify"))
        result = json.loads(event.payload)
    assert result["ok"] and result["scope"] == "all" and result["checkpoint_seq"] > 0
    assert result["evidence_checked"] > 0 and result["objects_replayed"] > 0


def test_verification_page_reports_tampering(app, auditor):
    with app.app_context():
        item = db.session.scalar(sa.select(RectificationItem).where(RectificationItem.state == "assigned"))
        item_id, inspection_id = item.id, item.inspection_id
        db.session.execute(
            sa.update(RectificationItem).where(RectificationItem.id == item_id).values(state="completed")
        )
        db.session.commit()
    body = auditor.post_form("/audit/verify", {"scope": str(inspection_id)}, follow_redirects=True).get_data(
        as_text=True
    )
    assert "核验发现 1 个问题" in body
    assert f"item:{item_id}：存储的 state 为“completed”，但历史记录推出的是“assigned”" in body
    history = auditor.get(f"/audit/items/{item_id}").get_data(as_text=True)
    assert 'data-workflow="rectification" data-ok="false"' in history


def test_verification_over_budget_says_incomplete(app, auditor):
    app.config["AUDIT_VERIFY_BUDGET_SECONDS"] = 0
    body = auditor.post_form("/audit/verify", {"scope": "all"}, follow_redirects=True).get_data(as_text=True)
    assert "不完整" in body
    assert 'data-ok="false"' in body


def test_verification_holds_no_write_lock_while_it_reads(app, auditor, monkeypatch):
    """The long read runs in a reader transaction; only the recording takes the write lock."""
    from portal.auditing import views

    seen = []
    real = views.verify_everything

    def spy(*args, **kwargs):
        from portal.core.database import write_intent

        seen.append(write_intent())
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "verify_everything", spy)
    assert auditor.post_form("/audit/verify", {"scope": "all"}).status_code == 302
    assert seen == [False]


# --- one item's complete history ------------------------------------------------------------


def test_item_history_shows_everything_recorded(app, auditor):
    item_id = int(item_with_versions(app))
    with app.app_context():
        events = db_seqs(app, AuditEvent.object_type == "item", AuditEvent.object_id == str(item_id))
        evidence = db.session.scalars(
            sa.select(Evidence).where(Evidence.item_id == item_id, Evidence.storage_key.is_not(None))
        ).all()
        files = [(e.id, e.sha256) for e in evidence]
    response = auditor.get(f"/audit/items/{item_id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert set(events) <= set(seqs(response))
    assert 'data-workflow="rectification" data-ok="true"' in body
    assert 'data-workflow="publication" data-ok="true"' in body
    for evidence_id, sha in files:
        assert f'data-evidence="{evidence_id}" data-ok="true"' in body
        assert body.count(sha) >= 2  # recorded and current
    assert 'data-diff="2"' in body


def test_item_history_shows_a_changed_file(app, auditor):
    with app.app_context():
        evidence = db.session.scalar(sa.select(Evidence).where(Evidence.storage_key.is_not(None)))
        path = FileStore(app.config["EVIDENCE_DIR"])._path(evidence.storage_key)
        item_id, evidence_id = evidence.item_id, evidence.id
    path.write_bytes(path.read_bytes() + b" ")
    body = auditor.get(f"/audit/items/{item_id}").get_data(as_text=True)
    assert f'data-evidence="{evidence_id}" data-ok="false"' in body


def test_item_history_is_for_auditors(app, auditor, make_user):
    item_id = item_with_versions(app)
    for role in ("office", "leader", "staff", "admin"):
        other = other_client(app, make_user, role)
        assert other.get(f"/audit/items/{item_id}").status_code == 403
        assert other.post_form("/audit/verify", {"scope": "all"}).status_code == 403
        assert other.post_form("/audit/export", {"format": "jsonl"}).status_code == 403
    assert auditor.get("/audit/items/99999").status_code == 404


def test_document_pages_lead_auditors_to_the_history(app, auditor, make_user):
    item_id = int(item_with_versions(app))
    with app.app_context():
        inspection_id = db.session.get(RectificationItem, item_id).inspection_id
    item_page = auditor.get(f"/items/{item_id}").get_data(as_text=True)
    assert f'href="/audit/items/{item_id}" id="item-audit-history"' in item_page
    assert 'id="item-sharing"' in item_page
    inspection_page = auditor.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert f'href="/audit/?inspection={inspection_id}" id="inspection-audit-log"' in inspection_page
    office = other_client(app, make_user, "office")
    assert 'id="item-audit-history"' not in office.get(f"/items/{item_id}").get_data(as_text=True)
    log_page = auditor.get("/audit/").get_data(as_text=True)
    assert (
        '<option value="审核同意">workflow.approve</option>' in log_page and 'list="action-list"' in log_page
    )


def test_writers_are_not_blocked_while_an_export_streams(app, auditor):
    """The export reads in a reader transaction: on SQLite others can write meanwhile."""
    from portal.audit.chain import Actor, record_event

    response = auditor.post_form("/audit/export", {"format": "jsonl"}, buffered=False)
    chunks = iter(response.response)
    first = next(chunks)
    assert first.startswith(b'{"seq":1,')
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.session.execute(sa.text("PRAGMA busy_timeout = 200"))
        record_event(Actor(None, "writer"), "test.during_export", "user", 1)
        db.session.commit()  # would fail with "database is locked" behind a writing export
    rest = b"".join(chunks)
    response.close()
    lines = (first + rest).decode().splitlines()
    assert json.loads(lines[-1])["action"] == "audit.export"  # the stream stops at its event
