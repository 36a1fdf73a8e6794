"""Units of the audit log: readable payloads, filter arguments, export lines, the checker."""

import json
from datetime import date, datetime
from types import SimpleNamespace

from portal.audit.chain import GENESIS_HASH, canonical_row, compute_hash
from portal.auditing import log, verify_export


def event(payload) -> SimpleNamespace:
    return SimpleNamespace(payload=json.dumps(payload, ensure_ascii=False))


def test_field_changes_become_character_diffs():
    details = log.readable(
        event(
            {
                "changes": {"title": {"before": "整改报告", "after": "整改总结报告"}},
                "version": 3,
                "note": "",
                "reverted_from": None,
            }
        )
    )
    [change] = details["changes"]
    assert change.field == "title"
    assert change.runs == [("equal", "整改"), ("insert", "总结"), ("equal", "报告")]
    assert details["values"] == [("version", "3")]  # empty note and null left out


def test_transitions_show_from_and_to():
    details = log.readable(event({"from": "pending", "to": "rejected", "comment": "不予公开"}))
    assert details["changes"][0].runs == [("delete", "pending"), ("equal", " → "), ("insert", "rejected")]
    assert details["values"] == [("comment", "不予公开")]


def test_transitions_name_their_states_and_keep_their_machinery_aside(app):
    payload = {
        "from": "pending_review",
        "to": "completed",
        "comment": "同意",
        "workflow": "rectification",
        "transition": "complete",
        "automatic": True,
        "history_id": 7,
        "version": 8,
    }
    with app.test_request_context("/"):
        details = log.readable(event(payload))
    assert details["changes"][0].runs == [("delete", "待审核"), ("equal", " → "), ("insert", "已完成")]
    assert details["values"] == [("comment", "同意")]
    with app.test_request_context("/"):  # a step that stays says so, without "待审核 → 待审核"
        stays = log.readable(event({**payload, "to": "pending_review", "transition": "approve"}))
    assert stays["changes"][0].runs == [("equal", "待审核（状态不变）")]
    assert [key for key, _value in details["technical"]] == [
        "automatic",
        "history_id",
        "transition",
        "version",
        "workflow",
    ]


def test_before_and_after_text_is_diffed_but_sharing_lists_are_values():
    assert log.readable(event({"before": "联系人张三", "after": "联系人"}))["changes"][0].runs == [
        ("equal", "联系人"),
        ("delete", "张三"),
    ]
    sharing = log.readable(event({"before": [], "after": [["Reader", "u:3"]], "role": "Reader"}))
    assert sharing["changes"] == []
    assert ("after", '[["Reader", "u:3"]]') in sharing["values"]


def test_unreadable_payload_is_shown_as_is():
    details = log.readable(SimpleNamespace(payload="not json"))
    assert details == {"changes": [], "values": [("payload", "not json")], "technical": [], "lazy": False}


def test_filter_arguments_round_trip():
    f = log.LogFilter(actor="staff", inspection=2, since=date(2026, 11, 1))
    assert f.as_args() == {"actor": "staff", "inspection": "2", "since": "2026-11-01"}
    assert log.LogFilter().is_empty() and not f.is_empty()


def rows(n):
    prev, out = GENESIS_HASH, []
    for seq in range(1, n + 1):
        at = datetime(2026, 11, 28, 8, 0, seq)
        payload = json.dumps({"n": seq, "标题": "整改"}, ensure_ascii=False)
        insp = 1 if seq % 2 else None
        h = compute_hash(
            prev, canonical_row(seq, at, 1, "office", "test.event", "item", str(seq), payload, insp)
        )
        out.append((seq, at, 1, "office", "test.event", "item", str(seq), insp, payload, prev, h))
        prev = h
    return out


def test_jsonl_lines_verify_with_the_standalone_checker():
    lines = list(log.jsonl_lines(rows(5)))
    assert all(line.endswith("\n") and "\n" not in line[:-1] for line in lines)
    ok, message = verify_export.verify(lines)
    assert ok, message
    assert message.startswith("OK: 5 events (a complete chain from seq 1)")
    last_hash = json.loads(lines[-1])["hash"]
    assert verify_export.verify(lines, head=last_hash)[0]
    assert not verify_export.verify(lines, head="0" * 64)[0]
    assert verify_export.verify(lines[1:3])[1].startswith("OK: 2 events (a filtered selection)")
    assert verify_export.verify([])[1] == "no events in the file"


def test_csv_lines_have_a_bom_header_and_quoting():
    text = "".join(log.csv_lines(rows(2)))
    assert text.startswith("\ufeffseq,at_utc,time (UTC),actor_id,actor,action")
    assert '"{""n"": 1, ""标题"": ""整改""}"' in text
    assert text.count("\r\n") == 3


def test_csv_names_its_time_zones_and_keeps_the_hashed_time():
    """`at_utc` is the time exactly as hashed; the next column is the pages' zone, named."""
    import csv
    import io
    from zoneinfo import ZoneInfo

    text = "".join(log.csv_lines(rows(2), ZoneInfo("Asia/Shanghai")))
    first = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert first["at_utc"] == "2026-11-28T08:00:01.000000Z"
    assert first["time (Asia/Shanghai)"] == "2026-11-28 16:00:01"
    # the hashed fields are there, unchanged, so each row can still be checked
    h = rows(1)[0][-1]
    record = {**first, "at": first["at_utc"], "seq": int(first["seq"]), "actor_id": int(first["actor_id"])}
    assert (
        compute_hash(
            record["prev_hash"],
            canonical_row(
                record["seq"],
                record["at"],
                record["actor_id"],
                record["actor"],
                record["action"],
                record["object_type"],
                record["object_id"],
                record["payload"],
                int(record["inspection_id"]) if record["inspection_id"] else None,
            ),
        )
        == first["hash"]
        == h
    )


def test_known_actions_cover_everything_the_demo_records(app):
    """The filter suggests every action; anything the portal records must be in the list."""
    import sqlalchemy as sa

    from portal.audit.models import AuditEvent
    from portal.core.extensions import db
    from portal.demo.cli import load_demo

    with app.app_context():
        load_demo()
        recorded = set(db.session.scalars(sa.select(AuditEvent.action).distinct()))
    assert recorded <= set(log.known_actions()), recorded - set(log.known_actions())
    assert {"workflow.approve", "moderation.mark_spam", "auth.login_failed"} <= set(log.known_actions())
