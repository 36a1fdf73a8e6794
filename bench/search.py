"""Search (检索) at 100,000 items: the p95 of 2-, 3- and 4-character queries against a bare route.

Builds a database of `--items` items (default 100,000) in 5 inspections, each with a title, a
finding and one to three measures made of words from a vocabulary of 600 two-character words,
so that a query finds what real texts would give it: a word finds about one item in a hundred,
a three- or four-character query fewer. Half of the items are published. The items and measures
are inserted in bulk; the search index is then built by `flask search reindex`'s own code
(portal.search.index.rebuild), the code every write runs for its items.

Then gunicorn (2 sync workers, the page caches off so that every query is computed) serves the
app with a bare route, and a client sends each query once, one request at a time, as the office
(`/search`) and anonymously (`/public/search`): 2-, 3- and 4-character queries cut from the
texts, each a different one, interleaved with the bare route. It prints p50/p95 per group,
the ratio of each p95 to the bare route's, and what the queries found.

    .venv/bin/python bench/search.py                       # SQLite and PostgreSQL
    .venv/bin/python bench/search.py --db sqlite --items 20000
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

OFFICE, PASSWORD = "office", "bench-search-1"
ENV_URL, ENV_INSTANCE = "SEARCH_BENCH_DATABASE_URL", "SEARCH_BENCH_INSTANCE"
PG_URL = os.environ.get("SEARCH_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/bench_search")
#: common characters of the genre, paired into the vocabulary's words
CHARACTERS = (
    "整改管理制度落实责任资金项目审批监督检查工作组织建设党风廉政规范采购合同财务预算经费"
    "执行考核干部人事档案会议学习教育宣传培训基层服务社区科技创新产业园区用房租赁企业安全"
    "生产环境保护信息公开数据平台系统风险防控内部控制审计问题整治"
)
VOCABULARY = 600
QUERIES_PER_GROUP = 60


def make_served_app():
    """The app gunicorn serves, every query computed: the bench measures the search, not the
    page caches."""
    from benchdb import served_app

    return served_app(
        ENV_URL, ENV_INSTANCE, PUBLIC_PAGE_CACHE=False, PRIVATE_PAGE_CACHE=False, RATELIMIT_ENABLED=False
    )


def vocabulary(rng: random.Random) -> list[str]:
    words: set[str] = set()
    while len(words) < VOCABULARY:
        a, b = rng.sample(CHARACTERS, 2)
        words.add(a + b)
    return sorted(words)


def text(rng: random.Random, words: list[str], n: int) -> str:
    return "".join(rng.choice(words) for _ in range(n))


def build(app, total: int, rng: random.Random) -> list[str]:
    """The office, the structure, `total` items with measures; the index; returns the texts the
    queries are cut from (a sample of titles and findings)."""
    import sqlalchemy as sa
    from benchdb import build_structure

    from portal.accounts.operations import create_user
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.inspections.models import Measure, RectificationItem
    from portal.search.index import rebuild

    words = vocabulary(rng)
    actor = Actor.system("bench")
    with app.app_context():
        create_user(actor, login=OFFICE, display_name="巡察办", password=PASSWORD, roles=["office"])
        leader = create_user(actor, login="leader", display_name="领导", password=PASSWORD, roles=["leader"])
        structure = build_structure(actor, leader)
        db.session.commit()
        today, now = date.today(), datetime.now()
        start = (db.session.scalar(sa.select(sa.func.max(RectificationItem.id))) or 0) + 1
        samples: list[str] = []
        batch = 10_000
        for first in range(0, total, batch):
            items, measures = [], []
            for n in range(first, min(first + batch, total)):
                inspection_id, category_id = rng.choice(structure["categories"])
                title, finding = text(rng, words, rng.randint(3, 5)), text(rng, words, rng.randint(8, 14))
                items.append(
                    {
                        "id": start + n,
                        "inspection_id": inspection_id,
                        "category_id": category_id,
                        "number": str(n + 1),
                        "title": title,
                        "feedback_text": finding,
                        "completion_summary": text(rng, words, 6) if n % 3 == 0 else "",
                        "public_summary": text(rng, words, 5) if n % 4 == 0 else "",
                        "responsible_leader_id": leader.id,
                        "department_id": rng.choice(structure["departments"]),
                        "deadline": today + timedelta(days=rng.randint(-120, 240)),
                        "state": rng.choice(("assigned", "in_progress", "pending_review", "completed")),
                        "publication_state": "published" if n % 2 == 0 else "private",
                        "version": 1,
                        "created_at": now,
                    }
                )
                for k in range(rng.randint(1, 3)):
                    label = "一二三"[k] + "是"
                    measures.append({"item_id": start + n, "label": label, "text": text(rng, words, 5)})
                if n % 500 == 0:
                    samples += [title, finding]
            db.session.execute(sa.insert(RectificationItem), items)
            db.session.execute(sa.insert(Measure), measures)
            db.session.commit()
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            rebuild(conn)
        print(f"  index built in {time.perf_counter() - t0:.0f} s", flush=True)
        return samples


def queries(rng: random.Random, samples: list[str], length: int, n: int) -> list[str]:
    """`n` different queries of `length` characters, cut from the texts at random."""
    found: set[str] = set()
    while len(found) < n:
        source = rng.choice(samples)
        at = rng.randrange(0, len(source) - length + 1)
        found.add(source[at : at + length])
    return sorted(found)


def measure(url: str, instance: str, samples: list[str], rng: random.Random) -> list[tuple]:
    from audit_scale import Client
    from benchdb import gunicorn_serving

    env = {ENV_URL: url, ENV_INSTANCE: instance}
    rows = []
    with gunicorn_serving("search:make_served_app()", env, Path(instance) / "gunicorn.log", 2, 90) as port:
        office, public = Client(port), Client(port)
        office.sign_in(OFFICE, PASSWORD)
        for client in (office, public):  # warm both workers' caches of templates and metadata
            for _ in range(10):
                client.request("GET", "/bench/bare")
                warm = "/search" if client is office else "/public/search"
                client.request("GET", f"{warm}?q={quote('整改')}")
        bare: list[float] = []
        for who, client, path in (("office", office, "/search"), ("public", public, "/public/search")):
            for length in (2, 3, 4):
                times, totals = [], []
                for q in queries(rng, samples, length, QUERIES_PER_GROUP):
                    t0 = time.perf_counter()
                    client.request("GET", "/bench/bare")
                    bare.append(1000 * (time.perf_counter() - t0))
                    t0 = time.perf_counter()
                    status, body, _h = client.request("GET", f"{path}?q={quote(q)}")
                    times.append(1000 * (time.perf_counter() - t0))
                    if status != 200:
                        raise SystemExit(f"GET {path}?q={q} answered {status}")
                    totals.append(int(re.search(r'data-total="(\d+)"', body).group(1)))
                rows.append((who, length, times, totals))
    return [("bare", 0, bare, [])] + rows


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


def report(label: str, rows: list[tuple]) -> None:
    bare = p95(rows[0][2])
    head = f"{'searcher':<8} {'chars':>5} {'p50 ms':>8} {'p95 ms':>8} {'p95/bare':>9}"
    print(f"\n{label}: {head}  found (median, max)")
    for who, length, times, totals in rows:
        found = f"{statistics.median(totals):.0f}, {max(totals)}" if totals else ""
        print(
            f"{'':{len(label) + 1}} {who:<8} {length or '':>5} {statistics.median(times):8.1f} "
            f"{p95(times):8.1f} {p95(times) / bare:9.1f}  {found}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    from benchdb import migrated_app, recreate_postgres_database

    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    for kind in kinds:
        rng = random.Random(14)
        instance = tempfile.mkdtemp(prefix="rectify-search-bench-")
        url = f"sqlite:///{instance}/bench.db" if kind == "sqlite" else PG_URL
        try:
            t0 = time.perf_counter()
            app = migrated_app(url, instance)
            samples = build(app, args.items, rng)
            print(f"{kind}: built {args.items:,} items in {time.perf_counter() - t0:.0f} s", flush=True)
            with app.app_context():
                from portal.core.extensions import db

                db.engine.dispose()
            report(kind, measure(url, instance, samples, rng))
        finally:
            shutil.rmtree(instance, ignore_errors=True)
            if kind == "postgresql":
                recreate_postgres_database(url)


if __name__ == "__main__":
    main()
