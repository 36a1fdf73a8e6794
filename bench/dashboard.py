"""The supervision dashboard (督查督办驾驶舱) at 10,000 items: p95 against a bare route.

Builds a temporary SQLite database (migrated to head): the office, leaders and staff, 12
departments, 5 inspections of 4 categories, then 10,000 items in every state with deadlines
around today, their workflow history (start, submit, approve, complete — spread over the last
year), 500 extension requests and 300 public "is it fixed?" answers. The items and their
history are inserted in bulk (the dashboard only reads them; the transition pipeline has its
own bench). Then gunicorn (1 sync worker, as bench/audit_scale.py serves) serves the app with
a bare route, `/bench/bare`, and wrk (or, without wrk, a Python client) measures both with 8
concurrent connections, signed in as the office; the ratio p95(dashboard) / p95(bare) is
printed, with the in-process time of the dashboard's figures at 100 and at 10,000 items,
computed and from the cache (portal.core.cache: once per state of the data).

    .venv/bin/python bench/dashboard.py [--items 10000] [--seconds 10]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BIN = ROOT / ".venv" / "bin"
OFFICE, PASSWORD = "office", "bench-dashboard-1"
CONNECTIONS = 8
ENV_URL, ENV_INSTANCE = "DASHBOARD_BENCH_DATABASE_URL", "DASHBOARD_BENCH_INSTANCE"
# (state, weight, steps of its history)
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
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("p50_us %d\\np95_us %d\\nrequests %d\\nerrors %d\\n",
    latency:percentile(50.0), latency:percentile(95.0), summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
"""


def make_served_app():
    """The WSGI app gunicorn serves: the portal on the bench database, plus a bare route."""
    from portal import create_app

    app = create_app(
        {
            "CONFIG": "production",
            # pages are measured, not the second sign-in step (production requires it)
            "MFA_REQUIRED_ROLES": (),
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": os.environ[ENV_INSTANCE],
            "SQLALCHEMY_DATABASE_URI": os.environ[ENV_URL],
        }
    )
    app.add_url_rule(
        "/bench/bare", "bench_bare", lambda: ("bare", 200, {"Content-Type": "text/plain; charset=utf-8"})
    )
    return app


# --- building the database ------------------------------------------------------------------


def build_people(app) -> dict:
    from benchdb import build_structure

    from portal.accounts.operations import create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db

    actor = Actor.system("bench")
    with app.app_context():
        create_user(actor, login=OFFICE, display_name="巡察办", password=PASSWORD, roles=["office"])
        leaders = [
            create_user(
                actor, login=f"leader{n}", display_name=f"领导{n}", password=PASSWORD, roles=["leader"]
            )
            for n in range(8)
        ]
        staff = [
            create_user(
                actor, login=f"staff{n}", display_name=f"经办人{n}", password=PASSWORD, roles=["staff"]
            )
            for n in range(40)
        ]
        structure = build_structure(actor, leaders[0])
        db.session.commit()
        return {"leaders": [u.id for u in leaders], "staff": [u.id for u in staff], **structure}


def build_items(app, people: dict, total: int, rng: random.Random) -> None:
    """`total` items and their history, inserted in bulk (10,000 a batch)."""
    import sqlalchemy as sa

    from portal.core.extensions import db
    from portal.core.models import WorkflowHistory
    from portal.inspections.models import RectificationItem

    now, today = datetime.now(), date.today()
    states = [s for s, weight, _steps in STATES for _ in range(weight)]
    steps_of = {s: steps for s, _weight, steps in STATES}
    with app.app_context():
        start = (db.session.scalar(sa.select(sa.func.max(RectificationItem.id))) or 0) + 1
        items, history = [], []
        for n in range(total):
            state = rng.choice(states)
            inspection_id, category_id = rng.choice(people["categories"])
            created = now - timedelta(days=365, minutes=rng.randint(0, 1000))
            items.append(
                {
                    "id": start + n,
                    "inspection_id": inspection_id,
                    "category_id": category_id,
                    "number": str(n + 1),
                    "title": f"整改事项{n + 1}：规范专项资金管理",
                    "responsible_leader_id": rng.choice(people["leaders"]),
                    "staff_id": rng.choice(people["staff"]),
                    "department_id": rng.choice(people["departments"]),
                    "deadline": today + timedelta(days=rng.randint(-120, 120)),
                    "state": state,
                    "version": 1 + len(steps_of[state]),
                    "created_at": created,
                }
            )
            at = created
            for step in steps_of[state]:
                at += timedelta(days=rng.randint(1, 60), minutes=rng.randint(0, 600))
                source, target = STEP_STATES[step]
                history.append(
                    {
                        "object_type": "item",
                        "object_id": start + n,
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
        db.session.execute(sa.insert(RectificationItem), items)
        db.session.execute(sa.insert(WorkflowHistory), history)
        db.session.commit()


def build_extras(app, total: int, rng: random.Random) -> None:
    """Extension requests in every state and public answers on completed items."""
    import sqlalchemy as sa

    from portal.core.extensions import db
    from portal.deadlines.models import ExtensionRequest
    from portal.feedback.models import FixCheck
    from portal.inspections.models import RectificationItem

    now = datetime.now()
    with app.app_context():
        open_items = db.session.execute(
            sa.select(RectificationItem.id, RectificationItem.inspection_id, RectificationItem.deadline)
            .where(RectificationItem.state.in_(("assigned", "in_progress")))
            .limit(500)
        ).all()
        states = ("requested", "leader_approved", "approved", "approved", "rejected", "withdrawn")
        db.session.execute(
            sa.insert(ExtensionRequest),
            [
                {
                    "item_id": item_id,
                    "inspection_id": inspection_id,
                    "reason": "需协调预算",
                    "progress_note": "方案已拟定",
                    "old_deadline": deadline,
                    "proposed_deadline": deadline + timedelta(days=30),
                    "extension_state": rng.choice(states),
                    "created_at": now,
                }
                for item_id, inspection_id, deadline in open_items
            ],
        )
        completed = db.session.scalars(
            sa.select(RectificationItem.id).where(RectificationItem.state == "completed").limit(300)
        ).all()
        db.session.execute(
            sa.insert(FixCheck),
            [
                {"item_id": i, "answer": rng.choice(("fixed", "not_fixed", "partly")), "created_at": now}
                for i in completed
            ],
        )
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def in_process_ms(app, repeat: int = 20) -> tuple[float, float]:
    """The median time of the dashboard's figures for the office in the app's own process:
    computed (as after any write) and from the cache (as between writes)."""
    import sqlalchemy as sa

    from portal.accounts.models import User
    from portal.core.extensions import cache, db
    from portal.supervision.dashboard import LIST_LIMIT, compute, dashboard

    with app.test_request_context():
        office = db.session.scalar(sa.select(User).where(User.login == OFFICE))
        computed, cached = [], []
        for _ in range(repeat):
            t0 = time.perf_counter()
            compute(office, date.today(), None, LIST_LIMIT)
            computed.append(1000 * (time.perf_counter() - t0))
            db.session.expire_all()
        cache.clear()
        dashboard(office, date.today())
        for _ in range(repeat):
            t0 = time.perf_counter()
            dashboard(office, date.today())
            cached.append(1000 * (time.perf_counter() - t0))
    return statistics.median(computed), statistics.median(cached)


# --- serving and measuring ------------------------------------------------------------------


@contextlib.contextmanager
def served(url: str, instance: str):
    """gunicorn, 1 sync worker(s), serving make_served_app() on a free port; yields the port."""
    from benchdb import gunicorn_serving

    env = {ENV_URL: url, ENV_INSTANCE: instance}
    with gunicorn_serving("dashboard:make_served_app()", env, Path(instance) / "gunicorn.log", 1, 60) as port:
        yield port


def with_wrk(port: int, path: str, cookie: str, seconds: int, instance: str) -> tuple[float, float, int]:
    script = Path(instance) / "p95.lua"
    script.write_text(WRK_SCRIPT)
    out = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk"),
            "-t",
            "2",
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--timeout",
            "60s",
            "-s",
            str(script),
            "-H",
            f"Cookie: {cookie}",
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = dict(re.findall(r"^(\w+) (\d+)$", out, re.M))
    if int(figures["errors"]):
        raise SystemExit(f"wrk saw {figures['errors']} errors on {path}:\n{out}")
    return int(figures["p50_us"]) / 1000, int(figures["p95_us"]) / 1000, int(figures["requests"])


def with_python(port: int, path: str, cookie: str, seconds: int) -> tuple[float, float, int]:
    """Without wrk: CONNECTIONS threads, each GETting `path` in a loop for `seconds`."""
    import http.client

    samples: list[float] = []
    stop = time.perf_counter() + seconds

    def run():
        while time.perf_counter() < stop:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            t0 = time.perf_counter()
            conn.request("GET", path, headers={"Cookie": cookie})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise SystemExit(f"GET {path} answered {response.status}")
            samples.append(1000 * (time.perf_counter() - t0))

    threads = [threading.Thread(target=run) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))], len(samples)


def measure(url: str, instance: str, seconds: int) -> list[tuple[str, float, float, int]]:
    from audit_scale import Client

    rows = []
    with served(url, instance) as port:
        client = Client(port)
        client.sign_in(OFFICE, PASSWORD)
        status, body, _h = client.request("GET", "/dashboard")
        total = re.search(r"data-total>(\d+)<", body)
        if status != 200 or total is None:
            raise SystemExit(f"GET /dashboard answered {status}")
        print(f"  /dashboard shows {int(total.group(1)):,} items", flush=True)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        tool = "wrk" if shutil.which("wrk") else "python"
        print(f"  load client: {tool}, {CONNECTIONS} connections, {seconds} s per URL", flush=True)
        for label, path in (("bare", "/bench/bare"), ("dashboard", "/dashboard")):
            if tool == "wrk":
                p50, p95, n = with_wrk(port, path, cookie, seconds, instance)
            else:
                p50, p95, n = with_python(port, path, cookie, seconds)
            rows.append((label, p50, p95, n))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=10, help="load per URL")
    args = parser.parse_args()
    from benchdb import migrated_app

    rng = random.Random(13)
    instance = tempfile.mkdtemp(prefix="rectify-bench-")
    url = f"sqlite:///{instance}/bench.db"
    try:
        app = migrated_app(url, instance)
        people = build_people(app)
        t0 = time.perf_counter()
        build_items(app, people, 100, rng)
        small = in_process_ms(app)
        build_items(app, people, args.items - 100, rng)
        build_extras(app, args.items, rng)
        print(f"built {args.items:,} items and their history in {time.perf_counter() - t0:.1f} s", flush=True)
        large = in_process_ms(app)
        print(
            f"  in-process figures, computed: {small[0]:.1f} ms at 100 items, {large[0]:.1f} ms at "
            f"{args.items:,} ({large[0] / small[0]:.1f}×); from the cache: {small[1]:.2f} ms and "
            f"{large[1]:.2f} ms",
            flush=True,
        )
        rows = measure(url, instance, args.seconds)
    finally:
        shutil.rmtree(instance, ignore_errors=True)
    bare_p95 = rows[0][2]
    print(f"\n{'URL':<10} {'p50 ms':>8} {'p95 ms':>8} {'requests':>9} {'p95/bare':>9}")
    for label, p50, p95, n in rows:
        print(f"{label:<10} {p50:8.2f} {p95:8.2f} {n:9d} {p95 / bare_p95:9.1f}")
    throughput = rows[0][3] / max(rows[1][3], 1)
    print(
        f"\nbare / dashboard throughput: {throughput:.1f}×; "
        f"dashboard p95 / bare p95: {rows[1][2] / bare_p95:.1f}×"
    )


if __name__ == "__main__":
    main()
