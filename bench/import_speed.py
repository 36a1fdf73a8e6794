"""Import speed: the seed notice (parse and import) and a generated 1,000-row ledger.

Targets (DESIGN §8): seed notice import under 1 s; a 1,000-row ledger import under 10 s.

    .venv/bin/python bench/import_speed.py            # SQLite (a fresh temporary file)
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/rectify_bench .venv/bin/python bench/import_speed.py
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEED = (
    Path(__file__).resolve().parents[1]
    / "portal"
    / "demo"
    / "seed"
    / "nanshan-kjj-2020-rectification-notice.txt"
)


def fresh_app():
    from benchdb import migrated_app

    instance = tempfile.mkdtemp(prefix="rectify-bench-")
    url = (
        os.environ.get("DATABASE_URL", "").replace("postgresql://", "postgresql+psycopg://")
        or f"sqlite:///{instance}/bench.db"
    )
    return migrated_app(url, instance)


def ledger_bytes(rows: int) -> bytes:
    from portal.ledger.xlsx import LedgerRow, write_ledger

    start = date(2026, 1, 31)
    return write_ledger(
        "性能测试台账",
        [
            LedgerRow(
                number=str(n),
                category=f"{'一二三四五'[n % 5]}、类别{n % 5}",
                title=f"问题{n}",
                measures=[("一是", f"措施甲{n}"), ("二是", f"措施乙{n}")],
                leader="",
                department="",
                staff="",
                deadline=start + timedelta(days=n % 300),
                status="已交办",
                progress=n % 100,
                completion_summary="",
                evidence_count=0,
            )
            for n in range(1, rows + 1)
        ],
    )


def main() -> None:
    from portal.audit.chain import Actor
    from portal.core.extensions import db
    from portal.ledger.operations import import_ledger
    from portal.ledger.xlsx import read_ledger
    from portal.notices.operations import import_notice
    from portal.notices.parser import parse

    app = fresh_app()
    text = SEED.read_text(encoding="utf-8")
    with app.app_context():
        t0 = time.perf_counter()
        parsed = parse(text)
        t1 = time.perf_counter()
        import_notice(Actor.system("bench"), parsed, text)
        db.session.commit()
        t2 = time.perf_counter()
    print(
        f"seed notice: parse {1000 * (t1 - t0):.1f} ms, parse + import + commit "
        f"{t2 - t0:.3f} s ({len(parsed.problems)} items; target < 1 s)"
    )

    body = ledger_bytes(1000)
    with app.app_context():
        t0 = time.perf_counter()
        ledger = read_ledger(io.BytesIO(body))
        t1 = time.perf_counter()
        import_ledger(Actor.system("bench"), ledger, "性能测试")
        db.session.commit()
        t2 = time.perf_counter()
    print(
        f"1,000-row ledger: read {t1 - t0:.2f} s, read + import + commit {t2 - t0:.2f} s "
        f"({len(ledger.rows)} rows, {2 * len(ledger.rows)} measures; target < 10 s)"
    )


if __name__ == "__main__":
    main()
