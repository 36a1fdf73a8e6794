"""The supervision pass at 10,000 items and 100,000 audit events: `flask supervise run`, twice.

Target: one full pass over 10k items under 5 s (timed as a subprocess, start-up included), and
a second pass the same day that issues nothing and moves nothing (idempotent), timed too.

The database (a temporary one, migrated to head): the office (8 accounts), 10 leaders, 40
staff, 5 inspections of 4 categories; then 10,000 items inserted in bulk in every state, the
open ones with deadlines from 60 days overdue to 60 days ahead of the pass day (so the first
pass issues a warning for most of them), the completed ones with their follow-up check
(回头看) due from 30 days before to 150 days after it (so the pass moves about a sixth of them
through the workflow engine); one measure each; then the audit chain padded to --events with
synthetic events (bench/audit_scale.py's `pad_chain`), then ANALYZE.

    .venv/bin/python bench/supervise.py                      # SQLite, 10k items, 100k events
    .venv/bin/python bench/supervise.py --db postgresql      # DATABASE_URL or the bench database
    .venv/bin/python bench/supervise.py --items 1000 --events 20000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BIN = ROOT / ".venv" / "bin"
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/rectify_bench"
TARGET_S = 5.0
PASS_DAY = date(2026, 12, 1)
#: (state, weight, its history's steps)
STATES = (
    ("assigned", 20, ()),
    ("in_progress", 35, ("start",)),
    ("pending_review", 10, ("start", "submit")),
    ("completed", 30, ("start", "submit", "approve", "complete")),
    ("follow_up", 5, ("start", "submit", "approve", "complete", "schedule_follow_up")),
)
STEP_STATES = {
    "start": ("assigned", "in_progress"),
    "submit": ("in_progress", "pending_review"),
    "approve": ("pending_review", "pending_review"),
    "complete": ("pending_review", "completed"),
    "schedule_follow_up": ("completed", "follow_up"),
}


def build_people(app) -> dict:
    from benchdb import build_structure

    from portal.accounts.operations import create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db

    actor = Actor.system("bench")
    with app.app_context():

        def make(login: str, name: str, role: str):
            return create_user(actor, login=login, display_name=name, password="bench-pass-1", roles=[role])

        for n in range(8):
            make(f"office{n}", f"督办{n}", "office")
        leaders = [make(f"leader{n}", f"领导{n}", "leader") for n in range(10)]
        staff = [make(f"staff{n}", f"经办人{n}", "staff") for n in range(40)]
        structure = build_structure(actor, leaders[0])
        db.session.commit()
        return {"leaders": [u.id for u in leaders], "staff": [u.id for u in staff], **structure}


def build_items(app, people: dict, total: int, rng: random.Random) -> dict[str, int]:
    """`total` items with one measure each and their history, in bulk; the count per state."""
    import sqlalchemy as sa

    from portal.core.extensions import db
    from portal.core.models import WorkflowHistory
    from portal.inspections.models import Measure, RectificationItem

    now = datetime(PASS_DAY.year, PASS_DAY.month, PASS_DAY.day) - timedelta(days=1)
    states = [s for s, weight, _steps in STATES for _ in range(weight)]
    steps_of = {s: steps for s, _weight, steps in STATES}
    counts: dict[str, int] = {}
    items, measures, history = [], [], []
    for n in range(1, total + 1):
        state = rng.choice(states)
        counts[state] = counts.get(state, 0) + 1
        inspection_id, category_id = rng.choice(people["categories"])
        created = now - timedelta(days=365, minutes=rng.randint(0, 1000))
        items.append(
            {
                "id": n,
                "inspection_id": inspection_id,
                "category_id": category_id,
                "number": str(n),
                "title": f"整改事项{n}：规范专项资金管理",
                "responsible_leader_id": rng.choice(people["leaders"]),
                "staff_id": rng.choice(people["staff"]),
                "department_id": rng.choice(people["departments"]),
                "deadline": PASS_DAY + timedelta(days=rng.randint(-60, 60)),
                "completion_summary": "已按整改方案落实。" if state in ("completed", "follow_up") else "",
                "state": state,
                "version": 1 + len(steps_of[state]),
                "follow_up_due_on": (
                    PASS_DAY + timedelta(days=rng.randint(-30, 150)) if state == "completed" else None
                ),
                "created_at": created,
            }
        )
        closed = state in ("pending_review", "completed", "follow_up")
        measures.append(
            {
                "item_id": n,
                "label": "一是",
                "text": "完善制度并抓好落实",
                "status": "done" if closed else "open",
            }
        )
        at = created
        for step in steps_of[state]:
            at += timedelta(days=rng.randint(1, 60))
            source, target = STEP_STATES[step]
            history.append(
                {
                    "object_type": "item",
                    "object_id": n,
                    "workflow": "rectification",
                    "action": step,
                    "actor_id": people["leaders"][0],
                    "comment": "",
                    "from_state": source,
                    "to_state": target,
                    "at": min(at, now),
                    "evidence_ids": [],
                }
            )
    with app.app_context():
        for table, rows in ((RectificationItem, items), (Measure, measures), (WorkflowHistory, history)):
            for start in range(0, len(rows), 10_000):
                db.session.execute(sa.insert(table), rows[start : start + 10_000])
        db.session.commit()
    return counts


def run_flask(url: str, instance: str, *args: str) -> tuple[float, float, list[str]]:
    """Wall-clock and CPU seconds of `flask --app app supervise <args>` (start-up included), and
    what it printed."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench",
        "RECTIFY_CONFIG": "production",
        "EVIDENCE_DIR": str(Path(instance) / "evidence"),
        "AUDIT_CHECKPOINT_KEY_FILE": str(Path(instance) / "checkpoint.key"),
        "AUDIT_CHECKPOINT_DIR": str(Path(instance) / "checkpoints"),
    }
    env.pop("SMTP_HOST", None)
    t0, cpu0 = time.perf_counter(), _children_cpu()
    done = subprocess.run(  # noqa: S603
        [str(BIN / "flask"), "--app", "app", "supervise", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode != 0:
        raise SystemExit(f"flask supervise {args} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, cpu, done.stdout.strip().splitlines()


def compile_bytecode() -> None:
    """Compile the project's modules as an installed release has them (pip compiles a wheel's
    on install). An editable checkout under PYTHONDONTWRITEBYTECODE, as on the CI machine,
    would otherwise compile every module from source at each start, about 0.6 s here."""
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "compileall", "-q", "portal", "workflows", "app.py"], cwd=ROOT, check=True
    )


def _children_cpu() -> float:
    """CPU seconds used so far by finished child processes (what a busy machine does not inflate)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def counted(lines: list[str], prefix: str) -> int:
    line = next(line for line in lines if line.startswith(prefix))
    return int(re.search(r"(\d+)$", line).group(1))


def bench(label: str, url: str, instance: str, items: int, events: int) -> dict:
    from unittest import mock

    from audit_scale import AuditClock, analyze, pad_chain
    from benchdb import migrated_app

    from portal.audit.chain import utcnow

    rng = random.Random(20261201)
    print(f"{label}: building {items:,} items and {events:,} audit events", flush=True)
    t0 = time.perf_counter()
    app = migrated_app(url, instance)
    with mock.patch("portal.audit.chain.utcnow", AuditClock(utcnow() - timedelta(days=365))):
        people = build_people(app)  # its events a year ago, so that the padding fits after them
    counts = build_items(app, people, items, rng)
    pad_chain(app, events, rng, utcnow() - timedelta(minutes=5))
    analyze(url)
    print(f"  built in {time.perf_counter() - t0:.1f} s; items by state: {counts}", flush=True)
    day = ("run", "--today", PASS_DAY.isoformat())
    compile_bytecode()
    startup, startup_cpu, _help = run_flask(url, instance, "--help")
    first, first_cpu, out1 = run_flask(url, instance, *day)
    second, second_cpu, out2 = run_flask(url, instance, *day)
    print(f"  start-up alone (flask supervise --help): {startup:.2f} s, CPU {startup_cpu:.2f} s")
    for name, seconds, cpu, lines in (
        ("first pass", first, first_cpu, out1),
        ("second pass", second, second_cpu, out2),
    ):
        print(f"  {name}: {seconds:.2f} s, CPU {cpu:.2f} s")
        for line in lines:
            print(f"    | {line}")
    result = {
        "label": label,
        "startup": startup,
        "first": first,
        "first_cpu": first_cpu,
        "second": second,
        "second_cpu": second_cpu,
        "warnings": counted(out1, "warnings issued:"),
        "follow_ups": counted(out1, "回头看"),
        "again": (counted(out2, "warnings issued:"), counted(out2, "回头看")),
    }
    if result["again"] != (0, 0):
        raise SystemExit(f"the second pass was not idempotent: {out2}")
    return result


def summary(results: list[dict], items: int, events: int) -> None:
    print(f"\nSummary ({items:,} items, {events:,} audit events; target: a pass under {TARGET_S:.0f} s)")
    for r in results:
        verdict = "ok" if r["first"] < TARGET_S else "OVER"
        print(
            f"  {r['label']}: first pass {r['first']:.2f} s (CPU {r['first_cpu']:.2f} s) [{verdict}] "
            f"({r['warnings']:,} warnings, {r['follow_ups']:,} items into 回头看); "
            f"second pass {r['second']:.2f} s (CPU {r['second_cpu']:.2f} s) "
            f"[{'ok' if r['second'] < TARGET_S else 'OVER'}] (nothing issued, nothing moved)"
        )
    print(
        "  (each time includes the process start-up of `flask`, as an operator or cron would run it; "
        f"start-up alone {results[0]['startup']:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        instance = tempfile.mkdtemp(prefix="rectify-bench-")
        try:
            results.append(
                bench("sqlite", f"sqlite:///{instance}/bench.db", instance, args.items, args.events)
            )
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    if args.db in ("postgresql", "both"):
        url = os.environ.get("DATABASE_URL", PG_DEFAULT).replace("postgresql://", "postgresql+psycopg://")
        instance = tempfile.mkdtemp(prefix="rectify-bench-")
        try:
            results.append(bench("postgresql", url, instance, args.items, args.events))
        finally:
            shutil.rmtree(instance, ignore_errors=True)
    summary(results, args.items, args.events)


if __name__ == "__main__":
    main()
