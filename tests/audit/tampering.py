"""Ways an attacker with database access could rewrite the chain, for the tamper tests."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from portal.audit.chain import canonical_row, compute_hash
from portal.core.extensions import db


@contextmanager
def behind_the_triggers():
    """Yield a connection on which UPDATE/DELETE of audit_events is not refused."""
    engine = db.engine
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET session_replication_role = replica")
            yield conn
            conn.exec_driver_sql("SET session_replication_role = origin")
        else:
            triggers = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_events'"
            ).all()
            assert triggers, "the append-only triggers are missing"
            for name, _sql in triggers:
                conn.exec_driver_sql(f"DROP TRIGGER {name}")
            yield conn
            for _name, sql in triggers:
                conn.exec_driver_sql(sql)


def edit_payload(seq: int, payload: str) -> None:
    with behind_the_triggers() as conn:
        conn.execute(sa.text("UPDATE audit_events SET payload = :p WHERE seq = :s"), {"p": payload, "s": seq})


def delete_from(seq: int) -> None:
    with behind_the_triggers() as conn:
        conn.execute(sa.text("DELETE FROM audit_events WHERE seq >= :s"), {"s": seq})


def recompute_chain() -> None:
    """Recompute every prev_hash and hash so that the chain is self-consistent again."""
    with behind_the_triggers() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT seq, at, actor_id, actor, action, object_type, object_id, payload, "
                "inspection_id "
                "FROM audit_events ORDER BY seq"
            )
        ).all()
        # Hashes are unique: clear them first so that intermediate states do not collide.
        conn.execute(sa.text("UPDATE audit_events SET hash = 'x' || CAST(seq AS VARCHAR(20))"))
        prev = "0" * 64
        for seq, at, actor_id, actor, action, otype, oid, payload, insp in rows:
            if isinstance(at, str):
                from datetime import datetime

                at = datetime.fromisoformat(at)
            new = compute_hash(
                prev, canonical_row(seq, at, actor_id, actor, action, otype, oid, payload, insp)
            )
            conn.execute(
                sa.text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                {"p": prev, "h": new, "s": seq},
            )
            prev = new
