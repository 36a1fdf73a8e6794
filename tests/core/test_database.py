"""Two worker processes upgrading a read to a write on one SQLite file.

With SQLite's default DEFERRED transactions one of them fails with "database is locked"
(the busy timeout cannot help: its snapshot is stale). With the portal's IMMEDIATE write
transactions both succeed, one after the other, and no update is lost.
"""

import multiprocessing

import pytest
import sqlalchemy as sa

from tests.core.sqlite_race import bump_counter


def run_two_workers(tmp_path, immediate: bool):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("CREATE TABLE counter (n INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier, results = manager.Barrier(2), manager.dict()
        workers = [
            ctx.Process(target=bump_counter, args=(url, immediate, barrier, results, name))
            for name in ("a", "b")
        ]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=30)
            assert w.exitcode == 0
        outcome = dict(results)
    with engine.connect() as conn:
        final = conn.execute(sa.text("SELECT n FROM counter")).scalar_one()
    engine.dispose()
    return outcome, final


@pytest.mark.timeout(60)
def test_deferred_transactions_fail_with_database_is_locked(tmp_path):
    outcome, final = run_two_workers(tmp_path, immediate=False)
    assert sorted(outcome.values())[0] == "database is locked"
    assert list(outcome.values()).count("ok") == 1
    assert final == 1


@pytest.mark.timeout(60)
def test_immediate_transactions_serialise_without_errors(tmp_path):
    outcome, final = run_two_workers(tmp_path, immediate=True)
    assert outcome == {"a": "ok", "b": "ok"}
    assert final == 2
