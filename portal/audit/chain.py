"""Appending to and verifying the audit chain; signed checkpoints of its head.

hash(n) = SHA-256(prev_hash(n) + "\n" + canonical row(n)), where the canonical row is the
sorted-key, compact JSON of every stored column except the two hashes. Because each hash covers
the previous one, changing, inserting or removing any row breaks every later link; a checkpoint
(head seq and hash, HMAC-signed with a key kept outside the database) also catches a deleted
tail and a chain recomputed from scratch.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.dialects import sqlite

from portal.audit.models import AuditEvent
from portal.core.config import load_or_create_secret
from portal.core.extensions import db

GENESIS_HASH = "0" * 64
_PG_AUDIT_LOCK_KEY = 0x52454354  # "RECT": serialises appenders on PostgreSQL


@dataclass(frozen=True)
class Actor:
    """Who performs an operation: a user, or a named system actor such as the CLI.

    Every operation takes one. `user` is the account itself where there is one, for the
    policy's questions (what roles it holds); it is not part of what is recorded.
    """

    id: int | None
    name: str
    user: Any = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, user) -> Actor:
        return cls(id=user.id, name=user.login, user=user)

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(id=None, name=name)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(id=None, name="anonymous")


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"cannot put {type(value).__name__} into an audit payload")


_string = json.encoder.encode_basestring  # a str as JSON, not ASCII-escaped (C speed)


def canonical_json(value: Any) -> str:
    """Serialise `value` the one way the chain hashes it."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_json_default)


def format_time(value: datetime) -> str:
    """Format a naive-UTC or aware time as ISO-8601 UTC with microseconds."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds") + "Z"


def utcnow() -> datetime:
    """Return the current UTC time as a naive datetime (how the database stores it)."""
    return datetime.now(UTC).replace(tzinfo=None)


def canonical_row(
    seq: int,
    at: datetime | str,
    actor_id: int | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    payload: str,
    inspection_id: int | None = None,
) -> str:
    """The hashed form of a row: `canonical_json` of its columns but the two hashes.

    `inspection_id` joins it only when set (the column came later). Written out by hand in
    sorted-key order because verification runs this a million times; `canonical_row_slow` is
    the definition, and a test keeps the two identical.
    """
    at_text = at if isinstance(at, str) else format_time(at)
    inspection = "" if inspection_id is None else f'"inspection_id":{int(inspection_id)},'
    return (
        f'{{"action":{_string(action)},"actor":{_string(actor)},'
        f'"actor_id":{"null" if actor_id is None else int(actor_id)},"at":{_string(at_text)},'
        f'{inspection}"object_id":{_string(object_id)},"object_type":{_string(object_type)},'
        f'"payload":{_string(payload)},"seq":{int(seq)}}}'
    )


def canonical_row_slow(
    seq, at, actor_id, actor, action, object_type, object_id, payload, inspection_id=None
) -> str:
    """The definition of `canonical_row` (and what the standalone export checker does)."""
    row = {
        "seq": seq,
        "at": at if isinstance(at, str) else format_time(at),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "payload": payload,
    }
    if inspection_id is not None:
        row["inspection_id"] = inspection_id
    return canonical_json(row)


def compute_hash(prev_hash: str, row: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{row}".encode()).hexdigest()


def _lock_chain_head() -> None:
    """Make concurrent appenders take turns. SQLite's IMMEDIATE transaction already does."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_AUDIT_LOCK_KEY})


def chain_head() -> tuple[int, str]:
    """Return (seq, hash) of the last event, or (0, GENESIS_HASH) for an empty chain."""
    row = db.session.execute(
        sa.select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


def _cached_head() -> tuple[int, str] | None:
    """The head this transaction appended last, if any (the lock keeps it current)."""
    cached = db.session.info.get("audit_head")
    transaction = db.session().get_transaction()
    if cached and transaction is not None and cached[0] is transaction:
        return cached[1], cached[2]
    return None


def inspection_id_of(obj) -> int | None:
    """The inspection a document belongs to (itself for an inspection), for `record_event`."""
    if obj is None:
        return None
    if getattr(obj, "__tablename__", None) == "inspections":
        return obj.id
    if hasattr(obj, "inspection_id"):
        return obj.inspection_id
    item = getattr(obj, "item", None)  # a measure
    return item.inspection_id if item is not None else None


def _event_row(
    actor: Actor, head: tuple[int, str], action, object_type, object_id, payload, inspection_id
) -> dict:
    """The stored columns of the event appended after `head`, its hash included."""
    seq, prev_hash = head
    row = {
        "seq": seq + 1,
        "at": utcnow(),
        "actor_id": actor.id,
        "actor": actor.name,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "payload": canonical_json(payload or {}),
        "prev_hash": prev_hash,
        "inspection_id": inspection_id,
    }
    row["hash"] = compute_hash(
        prev_hash,
        canonical_row(
            row["seq"],
            row["at"],
            row["actor_id"],
            row["actor"],
            row["action"],
            row["object_type"],
            row["object_id"],
            row["payload"],
            row["inspection_id"],
        ),
    )
    return row


def appended_head() -> tuple[int, str] | None:
    """(seq, hash) of the last event this transaction appended, if it appended any (through
    the ORM or in bulk): what a reader that remembered the head must compare it with."""
    return _cached_head()


def _head_for_append() -> tuple[int, str]:
    head = _cached_head()
    if head is None:
        _lock_chain_head()
        head = chain_head()
    return head


def _remember_head(seq: int, hash_: str) -> None:
    # Within this transaction we hold the chain's lock: the next append needs no query.
    db.session.info["audit_head"] = (db.session().get_transaction(), seq, hash_)


def record_event(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    payload: Mapping[str, Any] | None = None,
    *,
    inspection_id: int | None = None,
) -> AuditEvent:
    """Append one event to the chain inside the caller's transaction (never commits).

    `inspection_id` names the inspection the object belongs to, so that auditors can filter
    the log by inspection; it is part of the hash.
    """
    event = AuditEvent(
        **_event_row(actor, _head_for_append(), action, object_type, object_id, payload, inspection_id)
    )
    # No flush here: events go out in order with the next flush (autoflush before any query,
    # or the commit), batched with the writes they describe.
    db.session.add(event)
    _remember_head(event.seq, event.hash)
    return event


@dataclass(frozen=True)
class Event:
    """One event for `record_events`: what `record_event` takes; `actor` when it is not the
    batch's."""

    action: str
    object_type: str
    object_id: Any
    payload: Mapping[str, Any] | None = None
    inspection_id: int | None = None
    actor: Actor | None = None


def record_events(actor: Actor, events: Iterable[Event]) -> int:
    """Append many events by `actor` (or each event's own), in order, as `record_event` would
    one by one (the same rows and hashes), but written at once in one bulk INSERT (COPY on
    PostgreSQL) with no ORM object each: the supervision pass appends thousands. Pending events
    of the session go first. Never commits; return how many were appended."""
    from portal.core.bulk import insert_rows

    db.session.flush()
    head, rows = _head_for_append(), []
    for e in events:
        row = _event_row(
            e.actor or actor, head, e.action, e.object_type, e.object_id, e.payload, e.inspection_id
        )
        rows.append(row)
        head = (row["seq"], row["hash"])
    if rows:
        insert_rows(AuditEvent.__table__, rows)
        _remember_head(*head)
    return len(rows)


# --- verification ---------------------------------------------------------------------------

# Problems are worded through gettext: English on the command line, the user's language on
# the verification page.


def hash_mismatch(seq: int) -> str:
    return _("seq %(seq)d: stored hash does not match its content", seq=seq)


def prev_mismatch(seq: int, previous: int) -> str:
    return _("seq %(seq)d: prev_hash does not match the hash of seq %(previous)d", seq=seq, previous=previous)


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    bad_seq: int | None = None
    problem: str | None = None


_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_id,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.payload,
    AuditEvent.prev_hash,
    AuditEvent.hash,
    AuditEvent.inspection_id,
)


#: SQLAlchemy's own form of a time on SQLite (every row the application writes)
_SQLITE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}")


def _stored_time(raw: str) -> str:
    """The hashed text (`format_time`) of `at` as SQLite stores it.

    A time in SQLAlchemy's own form is rewritten as text, sparing a datetime object and its
    formatting per row; any other text is read by SQLAlchemy's own processor, as it was
    before (so a row hashes the same either way).
    """
    if _SQLITE_TIME.fullmatch(raw):
        return f"{raw[:10]}T{raw[11:]}Z"
    dialect = sqlite.dialect()
    return format_time(sa.DateTime().dialect_impl(dialect).result_processor(dialect, None)(raw))


def iter_event_rows(batch: int = 5000) -> Iterable[tuple]:
    """Stream every event row in seq order without loading the table into memory.

    Each row holds the columns of `_COLUMNS`, in that order; `at` as the driver returns it,
    with no type processing (a million rows a run): a datetime on PostgreSQL, the stored
    text on SQLite (`verify_rows` takes both).

    The streaming options go on this one statement: set on the session's connection they
    would stay there, and every later statement of the transaction would run through a
    server-side cursor (on PostgreSQL an INSERT then fails).
    """
    # `at` untyped: its text as SQLite stores it (no datetime made and formatted per row)
    columns = [sa.type_coerce(c, sa.String).label(c.key) if c.key == "at" else c for c in _COLUMNS]
    statement = sa.select(*columns).order_by(AuditEvent.seq)
    result = db.session.connection().execute(
        statement.execution_options(stream_results=True, yield_per=batch)
    )
    with result:
        yield from result


def verify_rows(
    rows: Iterable[tuple],
    progress: Callable[[int], None] | None = None,
    progress_every: int = 100_000,
    each: Callable[[tuple], None] | None = None,
) -> VerifyResult:
    """Check seq contiguity, each prev_hash link and each hash; report the first bad row.

    `each`, when given, sees every row read, and the rows after a bad one are still read for
    it (the integrity checks replay them) but no longer checked: after a break nothing later
    can be trusted.
    """
    expected_seq, prev_hash, checked, result = 1, GENESIS_HASH, 0, None
    for row in rows:
        if each is not None:
            each(row)
        if result is not None:
            continue
        seq, at, actor_id, actor, action, otype, oid, payload, row_prev, row_hash, insp = row
        if type(at) is str:  # SQLite's text
            at = _stored_time(at)
        if seq != expected_seq:
            result = VerifyResult(
                False,
                checked,
                expected_seq - 1,
                prev_hash,
                expected_seq,
                _("seq %(missing)d is missing (next stored seq is %(seq)d)", missing=expected_seq, seq=seq),
            )
        elif row_prev != prev_hash:
            result = VerifyResult(False, checked, seq - 1, prev_hash, seq, prev_mismatch(seq, seq - 1))
        elif (
            compute_hash(row_prev, canonical_row(seq, at, actor_id, actor, action, otype, oid, payload, insp))
            != row_hash
        ):
            result = VerifyResult(False, checked, seq - 1, prev_hash, seq, hash_mismatch(seq))
        else:
            checked += 1
            expected_seq, prev_hash = seq + 1, row_hash
            if progress and checked % progress_every == 0:
                progress(checked)
        if result is not None and each is None:
            break
    return result or VerifyResult(True, checked, expected_seq - 1, prev_hash)


def verify_chain(
    checkpoint: Mapping[str, Any] | None = None,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Verify the whole chain, and against a signed checkpoint when one is given."""
    result = verify_rows(iter_event_rows(), progress=progress)
    if not result.ok or checkpoint is None:
        return result
    problem = checkpoint_problem(checkpoint, key, result.head_seq)
    if problem:
        return VerifyResult(False, result.checked, result.head_seq, result.head_hash, *problem)
    return result


def checkpoint_problem(
    checkpoint: Mapping[str, Any], key: bytes | None, head_seq: int
) -> tuple[int | None, str] | None:
    """(bad seq, problem) when the chain disagrees with a signed checkpoint, else None."""
    if key is None:
        raise ValueError("a checkpoint needs the checkpoint key to be checked")
    problem = check_checkpoint_signature(checkpoint, key)
    if problem:
        return None, problem
    cp_seq, cp_hash = int(checkpoint["seq"]), checkpoint["hash"]
    if cp_seq > head_seq:
        return head_seq + 1, _(
            "the chain ends at seq %(head)d but the checkpoint records seq "
            "%(seq)d: events %(first)d..%(seq)d were removed",
            head=head_seq,
            seq=cp_seq,
            first=head_seq + 1,
        )
    stored = (  # seq 0: the empty chain's head, as a fresh installation's first checkpoint signs it
        GENESIS_HASH
        if cp_seq == 0
        else db.session.scalar(sa.select(AuditEvent.hash).where(AuditEvent.seq == cp_seq))
    )
    if stored != cp_hash:
        return cp_seq, _(
            "seq %(seq)d: hash differs from the signed checkpoint; the chain was rewritten", seq=cp_seq
        )
    return None


# --- checkpoints ----------------------------------------------------------------------------


def load_checkpoint_key(path: str | os.PathLike, create: bool = False) -> bytes:
    """Read the checkpoint HMAC key (kept outside the database); optionally create it."""

    path = Path(path)
    if not path.exists() and not create:
        raise FileNotFoundError(f"checkpoint key file {path} does not exist")
    return load_or_create_secret(path).encode()


def _signature(key: bytes, seq: int, head_hash: str, created_at: str) -> str:
    message = f"rectify-audit-checkpoint\n{seq}\n{head_hash}\n{created_at}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def make_checkpoint(key: bytes, head: tuple[int, str] | None = None) -> dict[str, Any]:
    """Return a signed record of the chain head (`head`, one just verified, or the current one)."""
    seq, head_hash = head or chain_head()
    created_at = format_time(utcnow())
    return {
        "seq": seq,
        "hash": head_hash,
        "created_at": created_at,
        "hmac": _signature(key, seq, head_hash, created_at),
    }


def check_checkpoint_signature(checkpoint: Mapping[str, Any], key: bytes) -> str | None:
    """Return a problem description, or None when the checkpoint is authentic."""
    try:
        expected = _signature(
            key, int(checkpoint["seq"]), str(checkpoint["hash"]), str(checkpoint["created_at"])
        )
        given = str(checkpoint["hmac"])
    except (KeyError, TypeError, ValueError):
        return _("the checkpoint file is incomplete or malformed")
    if not hmac.compare_digest(expected, given):
        return _("the checkpoint signature is invalid (wrong key or edited checkpoint)")
    return None


def write_checkpoint(
    directory: str | os.PathLike,
    key: bytes,
    out: str | os.PathLike | None = None,
    head: tuple[int, str] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Write a signed checkpoint (of `head`, else the current head) to `out`, or to
    `directory` named by its seq and time."""
    checkpoint = make_checkpoint(key, head)
    if out is None:
        stamp = checkpoint["created_at"].replace(":", "").replace("-", "").replace(".", "")
        out = Path(directory) / f"checkpoint-{checkpoint['seq']:012d}-{stamp}.json"
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(checkpoint, indent=2) + "\n", encoding="utf-8")
    return out, checkpoint


def latest_checkpoint(directory: str | os.PathLike) -> tuple[Path, dict[str, Any]] | None:
    """The newest readable checkpoint file in `directory` (by its recorded time), if any."""
    found = []
    for path in Path(directory).glob("checkpoint-*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found.append((str(data["created_at"]), int(data["seq"]), path, data))
        except (OSError, ValueError, KeyError, TypeError):
            continue
    if not found:
        return None
    _created, _seq, path, data = max(found, key=lambda f: (f[0], f[1]))
    return path, data
