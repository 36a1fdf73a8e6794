"""Transition throughput: transitions per second with 1 and 4 worker processes.

Each worker walks its own items through start → submit → approve (the approval sets off the
automatic `complete`), one committed transaction per call, with history, approval and audit
rows written as in production. As a yardstick the same workers also run bare write
transactions (one INSERT + COMMIT) on the same database, and the ratio is printed.

    .venv/bin/python bench/transition_throughput.py                 # SQLite and PostgreSQL
    .venv/bin/python bench/transition_throughput.py --db sqlite --items 400

PostgreSQL: DATABASE_URL, or postgresql://postgres@127.0.0.1:5432/rectify_bench (created).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/rectify_bench"


def make_app(url: str, instance: str):
    from portal import create_app

    return create_app(
        {
            "CONFIG": "testing",
            "SECRET_KEY": "bench",
            "INSTANCE_PATH": instance,
            "SQLALCHEMY_DATABASE_URI": url,
        }
    )


def prepare(url: str, instance: str, n_items: int) -> list[int]:
    import sqlalchemy as sa
    from benchdb import migrated_app

    from portal.accounts.operations import create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.evidence.operations import add_evidence_note
    from portal.inspections.operations import create_category, create_inspection, create_item

    app = migrated_app(url, instance)
    with app.app_context():
        actor = Actor.system("bench")
        staff = create_user(
            actor, login="staff", display_name="经办人", password="bench-pass-1", roles=["staff"]
        )
        leader = create_user(
            actor, login="leader", display_name="领导", password="bench-pass-1", roles=["leader"]
        )
        inspection = create_inspection(actor, title="性能测试")
        category = create_category(actor, inspection, label="一", title="类别")
        ids = []
        for n in range(n_items):
            item = create_item(
                actor,
                inspection,
                category=category,
                number=str(n),
                title=f"事项{n}",
                responsible_leader=leader,
                staff=staff,
                completion_summary="已完成",
            )
            add_evidence_note(actor, item, "材料")
            ids.append(item.id)
        db.session.execute(sa.text("CREATE TABLE bench_bare (id INTEGER PRIMARY KEY, v INTEGER)"))
        db.session.commit()
        db.engine.dispose()
    return ids


def walk(url, instance, item_ids, start_at, results, key):
    from portal.accounts.operations import find_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.core.transitions import fire
    from portal.inspections.models import RectificationItem

    app = make_app(url, instance)
    with app.app_context():
        staff, leader = find_user("staff"), find_user("leader")
        staff_id, leader_id = staff.id, leader.id
        db.session.rollback()
        while time.time() < start_at:
            time.sleep(0.001)
        t0, steps = time.perf_counter(), 0
        for item_id in item_ids:
            for user_id, transition in ((staff_id, "start"), (staff_id, "submit"), (leader_id, "approve")):
                item = db.session.get(RectificationItem, item_id)
                user = db.session.get(type(staff), user_id)
                steps += len(fire(Actor.of(user), item, transition))
                db.session.commit()
        results[key] = (steps, time.perf_counter() - t0)
        db.engine.dispose()


def bare(url, instance, first_id, count, start_at, results, key):
    import sqlalchemy as sa

    from portal.core.extensions import db

    app = make_app(url, instance)
    with app.app_context():
        db.session.rollback()
        while time.time() < start_at:
            time.sleep(0.001)
        t0 = time.perf_counter()
        for n in range(first_id, first_id + count):
            db.session.execute(sa.text("INSERT INTO bench_bare (id, v) VALUES (:i, 1)"), {"i": n})
            db.session.commit()
        results[key] = (count, time.perf_counter() - t0)
        db.engine.dispose()


def run(ctx, target, jobs):
    with ctx.Manager() as manager:
        results = manager.dict()
        start_at = time.time() + 3.0  # after every worker has imported and connected
        procs = [
            ctx.Process(target=target, args=(*args, start_at, results, n)) for n, args in enumerate(jobs)
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        done = dict(results)
    count = sum(c for c, _t in done.values())
    elapsed = max(t for _c, t in done.values())
    return count / elapsed


def bench(label: str, new_url, n_items: int) -> None:
    """Run both worker counts, each on a freshly migrated database from `new_url()`."""
    ctx = multiprocessing.get_context("spawn")
    instance = tempfile.mkdtemp(prefix="rectify-bench-")
    for workers in (1, 4):
        url = new_url()
        ids = prepare(url, instance, n_items)
        chunks = [ids[w::workers] for w in range(workers)]
        tps = run(ctx, walk, [(url, instance, chunk) for chunk in chunks])
        per = n_items * 3 // workers
        bare_tps = run(ctx, bare, [(url, instance, w * per, per) for w in range(workers)])
        print(
            f"{label:<10} workers={workers}  transitions/s={tps:8.1f}  "
            f"bare write tx/s={bare_tps:8.1f}  ratio={tps / bare_tps:5.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--items", type=int, default=200)
    args = parser.parse_args()
    if args.db in ("sqlite", "both"):
        bench("sqlite", lambda: f"sqlite:///{tempfile.mkdtemp(prefix='rectify-bench-')}/b.db", args.items)
    if args.db in ("postgresql", "both"):
        url = os.environ.get("DATABASE_URL", PG_DEFAULT).replace("postgresql://", "postgresql+psycopg://")
        bench("postgresql", lambda: url, args.items)  # prepare() recreates the database


if __name__ == "__main__":
    main()
