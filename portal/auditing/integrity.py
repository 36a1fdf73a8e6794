"""Integrity verification beyond the chain (完整性核验): state replay and evidence re-hashing.

The chain proves that nobody rewrote the events. These checks prove that the documents agree
with the events:

* **State replay.** Each item's rectification and publication states, each feedback's
  moderation state and each extension request's state, are replayed from the creation event
  through every transition event (checking each step against the workflow definition) and
  compared with the stored state. An UPDATE behind the application's back shows up as a
  disagreement naming the object and the seq of the last event that set the state.
* **Evidence.** Every stored evidence file is re-hashed and compared with the SHA-256 recorded
  in its `evidence.add` event (and with the one on its row).

`verify_everything` walks the chain once, doing the replay in the same pass; `verify_inspection`
checks the events of one inspection (each one's hash and both its links) and its documents.
Both stop when their time budget runs out and say so, rather than running unbounded.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _

from portal.audit.chain import (
    GENESIS_HASH,
    canonical_row,
    chain_head,
    compute_hash,
    hash_mismatch,
    iter_event_rows,
    prev_mismatch,
    verify_rows,
)
from portal.audit.models import AuditEvent
from portal.core.extensions import db
from portal.deadlines.models import ExtensionRequest
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.models import Feedback
from portal.inspections.models import RectificationItem
from workflows import WORKFLOWS

MAX_LISTED_PROBLEMS = 50
_CHECK_CLOCK_EVERY = 5000


@dataclass
class Problem:
    kind: str  # chain, checkpoint, state, evidence
    object: str | None  # "item:5", "feedback:2", "evidence:7"
    seq: int | None
    message: str


@dataclass
class IntegrityReport:
    scope: str  # "all" or "inspection:<id>"
    events_checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    objects_replayed: int = 0
    evidence_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    complete: bool = True
    seconds: float = 0.0
    checkpoint_seq: int | None = None

    @property
    def ok(self) -> bool:
        return self.complete and self.problem_count == 0

    def add(self, kind: str, obj: str | None, seq: int | None, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED_PROBLEMS:
            self.problems.append(Problem(kind, obj, seq, message))

    def summary(self) -> dict[str, Any]:
        """What the `audit.verify` event records."""
        data = asdict(self)
        data["ok"] = self.ok
        data["seconds"] = round(self.seconds, 3)
        data["problems"] = data["problems"][:10]
        return data


@dataclass
class EvidenceCheck:
    evidence: Evidence
    recorded: str | None  # the SHA-256 its evidence.add event recorded
    seq: int | None  # that event
    current: str | None  # the stored file's SHA-256 now; None when the file is missing

    @property
    def ok(self) -> bool:
        return self.recorded is not None and self.recorded == self.evidence.sha256 == self.current


class _OutOfTime(Exception):
    pass


class _Clock:
    def __init__(self, budget: float | None):
        self.started = time.monotonic()
        self.deadline = None if budget is None else self.started + budget

    def check(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise _OutOfTime

    def elapsed(self) -> float:
        return time.monotonic() - self.started


# --- replay ---------------------------------------------------------------------------------

#: event action -> (object type, workflow ids it creates with their payload keys)
_CREATIONS = {
    "item.create": (
        "item",
        {"rectification": "state", "publication": "publication_state", "lifecycle": None},
    ),
    "feedback.submit": ("feedback", {"moderation": None}),
    "extension.request": ("extension", {"extension": "extension_state"}),
}
#: step action prefix -> (object type, the workflow when the payload names none)
_STEP_PREFIXES = {
    "workflow.": ("item", None),
    "moderation.": ("feedback", "moderation"),
    "extension.": ("extension", "extension"),
}
_INTERESTING = (*_CREATIONS, *_STEP_PREFIXES, "evidence.add")
#: the workflow of each object type whose replay counts the object once
_COUNTED = ("rectification", "moderation", "extension")


class Replay:
    """Fold events into the states and evidence hashes they imply."""

    def __init__(self, report: IntegrityReport):
        self.report = report
        #: (object type, object id, workflow id) -> (state, seq that set it)
        self.states: dict[tuple[str, str, str], tuple[str, int]] = {}
        #: evidence id -> (sha256, seq)
        self.evidence: dict[int, tuple[str, int]] = {}

    def feed(self, seq: int, action: str, otype: str, oid: str, payload: str) -> None:
        if not action.startswith(_INTERESTING):
            return
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.report.add(
                "state",
                f"{otype}:{oid}",
                seq,
                _("seq %(seq)d: the payload of %(action)s cannot be read", seq=seq, action=action),
            )
            return
        if action in _CREATIONS:
            kind, workflows = _CREATIONS[action]
            if otype != kind:
                return
            for wf_id, key in workflows.items():
                state = data.get(key) if key else None
                self.states[(otype, oid, wf_id)] = (state or WORKFLOWS[wf_id].initial, seq)
        elif action == "evidence.add":
            if data.get("sha256") and isinstance(data.get("evidence_id"), int):
                self.evidence[data["evidence_id"]] = (data["sha256"], seq)
        else:
            prefix = next(p for p in _STEP_PREFIXES if action.startswith(p))
            kind, default_workflow = _STEP_PREFIXES[prefix]
            if otype != kind:
                return
            self._step(seq, action[len(prefix) :], otype, oid, data, data.get("workflow") or default_workflow)

    def _step(self, seq, transition_id, otype, oid, data, wf_id) -> None:
        where = f"{otype}:{oid}"
        workflow = WORKFLOWS.get(wf_id)
        if workflow is None or not workflow.has_transition(transition_id):
            self.report.add(
                "state",
                where,
                seq,
                _("seq %(seq)d: unknown transition %(t)s", seq=seq, t=f"{wf_id}.{transition_id}"),
            )
            return
        transition = workflow.transition(transition_id)
        key = (otype, oid, wf_id)
        current = self.states.get(key)
        before, after = data.get("from"), data.get("to")
        if current is None:
            self.report.add(
                "state",
                where,
                seq,
                _(
                    "seq %(seq)d: %(t)s on %(object)s, which has no creation event",
                    seq=seq,
                    t=transition_id,
                    object=where,
                ),
            )
        elif current[0] != before:
            self.report.add(
                "state",
                where,
                seq,
                _(
                    "seq %(seq)d: %(t)s starts from '%(before)s', but the history "
                    "before it (seq %(previous)d) leaves %(object)s in '%(state)s'",
                    seq=seq,
                    t=transition_id,
                    before=before,
                    previous=current[1],
                    object=where,
                    state=current[0],
                ),
            )
        if before not in transition.sources or after != (transition.dest or before):
            self.report.add(
                "state",
                where,
                seq,
                _(
                    "seq %(seq)d: '%(before)s' → '%(after)s' is not what %(t)s does",
                    seq=seq,
                    before=before,
                    after=after,
                    t=transition_id,
                ),
            )
        self.states[key] = (after, seq)

    def compare_states(
        self, items: Iterable[tuple], feedback: Iterable[tuple], extensions: Iterable[tuple] = ()
    ) -> None:
        """Compare stored states with the replayed ones."""
        for item_id, state, publication_state, lifecycle_state in items:
            for wf_id, stored in (
                ("rectification", state),
                ("publication", publication_state),
                ("lifecycle", lifecycle_state),
            ):
                self._compare("item", str(item_id), wf_id, stored)
        for feedback_id, moderation_state in feedback:
            self._compare("feedback", str(feedback_id), "moderation", moderation_state)
        for request_id, extension_state in extensions:
            self._compare("extension", str(request_id), "extension", extension_state)

    def _compare(self, otype: str, oid: str, wf_id: str, stored: str) -> None:
        self.report.objects_replayed += wf_id in _COUNTED  # once per object
        where = f"{otype}:{oid}"
        replayed = self.states.get((otype, oid, wf_id))
        if replayed is None:
            self.report.add(
                "state", where, None, _("%(object)s has no creation event in the audit log", object=where)
            )
        elif replayed[0] != stored:
            state_attr = WORKFLOWS[wf_id].state_attribute
            self.report.add(
                "state",
                where,
                replayed[1],
                _(
                    "%(object)s: stored %(attribute)s is '%(stored)s' but the history "
                    "implies '%(replayed)s' (last set by seq %(seq)d)",
                    object=where,
                    attribute=state_attr,
                    stored=stored,
                    replayed=replayed[0],
                    seq=replayed[1],
                ),
            )

    def check_evidence(
        self, rows: Iterable[Evidence], store: FileStore, clock: _Clock | None = None
    ) -> list[EvidenceCheck]:
        """Re-hash each stored file and compare it with its row and its recorded SHA-256."""
        checks = []
        for evidence in rows:
            if clock is not None:
                clock.check()
            where = f"evidence:{evidence.id}"
            label = f"{where} ({evidence.filename}) of item:{evidence.item_id}"
            recorded = self.evidence.get(evidence.id)
            seq = recorded[1] if recorded else None
            current = store.sha256(evidence.storage_key)
            checks.append(EvidenceCheck(evidence, recorded[0] if recorded else None, seq, current))
            self.report.evidence_checked += 1
            if recorded is None:
                self.report.add(
                    "evidence",
                    where,
                    None,
                    _("%(file)s has no evidence.add event recording its SHA-256", file=label),
                )
            elif recorded[0] != evidence.sha256:
                self.report.add(
                    "evidence",
                    where,
                    seq,
                    _(
                        "%(file)s: the row's SHA-256 differs from the one recorded at seq %(seq)d",
                        file=label,
                        seq=seq,
                    ),
                )
            if current is None:
                self.report.add(
                    "evidence",
                    where,
                    seq,
                    _("%(file)s: the file is missing (recorded at seq %(seq)d)", file=label, seq=seq)
                    if seq is not None
                    else _("%(file)s: the file is missing", file=label),
                )
            elif recorded is not None and current != recorded[0]:
                self.report.add(
                    "evidence",
                    where,
                    seq,
                    _(
                        "%(file)s: the file's SHA-256 %(current)s… differs from "
                        "%(recorded)s… recorded at seq %(seq)d",
                        file=label,
                        current=current[:12],
                        recorded=recorded[0][:12],
                        seq=seq,
                    ),
                )
        return checks


# --- whole database -------------------------------------------------------------------------


def verify_everything(
    store: FileStore,
    budget: float | None = None,
    progress: Callable[[str], None] | None = None,
    progress_every: int = 100_000,
) -> IntegrityReport:
    """The chain, every item's and feedback's state, every evidence file."""
    report = IntegrityReport(scope="all")
    clock = _Clock(budget)
    replay = Replay(report)
    try:
        _walk_chain(iter_event_rows(), report, replay, clock, progress, progress_every)
        if progress:
            progress(f"{report.events_checked} events verified; comparing stored states")
        replay.compare_states(
            db.session.execute(
                sa.select(
                    RectificationItem.id,
                    RectificationItem.state,
                    RectificationItem.publication_state,
                    RectificationItem.lifecycle_state,
                )
            ),
            db.session.execute(sa.select(Feedback.id, Feedback.moderation_state)),
            db.session.execute(sa.select(ExtensionRequest.id, ExtensionRequest.extension_state)),
        )
        evidence = db.session.scalars(
            sa.select(Evidence).where(Evidence.storage_key.is_not(None)).order_by(Evidence.id)
        ).all()
        if progress:
            progress(f"re-hashing {len(evidence)} evidence files")
        replay.check_evidence(evidence, store, clock)
    except _OutOfTime:
        report.complete = False
    report.seconds = clock.elapsed()
    return report


def _walk_chain(
    rows, report: IntegrityReport, replay: Replay, clock: _Clock, progress, progress_every: int
) -> None:
    """The chain check (`verify_rows`) with the replay fed every row in the same pass."""

    def each(row: tuple) -> None:
        seq, _at, _aid, _actor, action, otype, oid, payload = row[:8]
        replay.feed(seq, action, otype, oid, payload)
        if seq % _CHECK_CLOCK_EVERY == 0:
            clock.check()

    result = verify_rows(
        rows,
        progress=progress and (lambda n: progress(f"{n} events verified")),
        progress_every=progress_every,
        each=each,
    )
    report.events_checked = result.checked
    if result.ok:
        report.head_seq, report.head_hash = result.head_seq, result.head_hash
    else:
        report.head_seq, report.head_hash = chain_head()
        bad = result.bad_seq
        where = db.session.execute(
            sa.select(AuditEvent.object_type, AuditEvent.object_id).where(AuditEvent.seq == bad)
        ).first()
        # no row at the bad seq: it is missing, and there is no object to name
        report.add("chain", f"{where[0]}:{where[1]}" if where else None, bad, result.problem)


# --- one inspection -------------------------------------------------------------------------


def verify_inspection(inspection_id: int, store: FileStore, budget: float | None = None) -> IntegrityReport:
    """The events of one inspection (each hash and both links), its states and evidence."""
    report = IntegrityReport(scope=f"inspection:{inspection_id}")
    report.head_seq, report.head_hash = chain_head()
    clock = _Clock(budget)
    replay = Replay(report)
    item_ids = sa.select(sa.cast(RectificationItem.id, sa.String)).where(
        RectificationItem.inspection_id == inspection_id
    )
    feedback_ids = sa.select(sa.cast(Feedback.id, sa.String)).where(Feedback.inspection_id == inspection_id)
    e, prev, nxt = AuditEvent, so.aliased(AuditEvent), so.aliased(AuditEvent)
    # Events written before events carried their inspection are found through their object.
    query = (
        sa.select(
            e.seq,
            e.at,
            e.actor_id,
            e.actor,
            e.action,
            e.object_type,
            e.object_id,
            e.payload,
            e.prev_hash,
            e.hash,
            e.inspection_id,
            prev.hash,
            nxt.prev_hash,
            nxt.seq,
        )
        .outerjoin(prev, prev.seq == e.seq - 1)
        .outerjoin(nxt, nxt.seq == e.seq + 1)
        .where(
            sa.or_(
                e.inspection_id == inspection_id,
                sa.and_(e.object_type == "item", e.object_id.in_(item_ids)),
                sa.and_(e.object_type == "feedback", e.object_id.in_(feedback_ids)),
            )
        )
        .order_by(e.seq)
    )
    try:
        conn = db.session.connection().execution_options(stream_results=True, yield_per=2000)
        for (
            seq,
            at,
            actor_id,
            actor,
            action,
            otype,
            oid,
            payload,
            row_prev,
            row_hash,
            insp,
            prev_hash,
            next_prev,
            next_seq,
        ) in conn.execute(query):
            where = f"{otype}:{oid}"
            expected_prev = GENESIS_HASH if seq == 1 else prev_hash
            if expected_prev is None:
                report.add(
                    "chain",
                    None,
                    seq - 1,
                    _("seq %(missing)d is missing (before seq %(seq)d)", missing=seq - 1, seq=seq),
                )
            elif row_prev != expected_prev:
                report.add("chain", where, seq, prev_mismatch(seq, seq - 1))
            if (
                compute_hash(
                    row_prev, canonical_row(seq, at, actor_id, actor, action, otype, oid, payload, insp)
                )
                != row_hash
            ):
                report.add("chain", where, seq, hash_mismatch(seq))
            if next_seq is not None and next_prev != row_hash:
                report.add("chain", where, seq, prev_mismatch(seq + 1, seq))
            elif next_seq is None and seq < report.head_seq:
                report.add(
                    "chain",
                    None,
                    seq + 1,
                    _("seq %(missing)d is missing (after seq %(seq)d)", missing=seq + 1, seq=seq),
                )
            report.events_checked += 1
            replay.feed(seq, action, otype, oid, payload)
            if report.events_checked % _CHECK_CLOCK_EVERY == 0:
                clock.check()
        replay.compare_states(
            db.session.execute(
                sa.select(
                    RectificationItem.id,
                    RectificationItem.state,
                    RectificationItem.publication_state,
                    RectificationItem.lifecycle_state,
                ).where(RectificationItem.inspection_id == inspection_id)
            ),
            db.session.execute(
                sa.select(Feedback.id, Feedback.moderation_state).where(
                    Feedback.inspection_id == inspection_id
                )
            ),
            db.session.execute(
                sa.select(ExtensionRequest.id, ExtensionRequest.extension_state)
                .join(RectificationItem, RectificationItem.id == ExtensionRequest.item_id)
                .where(RectificationItem.inspection_id == inspection_id)
            ),
        )
        replay.check_evidence(
            db.session.scalars(
                sa.select(Evidence)
                .join(RectificationItem, RectificationItem.id == Evidence.item_id)
                .where(RectificationItem.inspection_id == inspection_id, Evidence.storage_key.is_not(None))
                .order_by(Evidence.id)
            ),
            store,
            clock,
        )
    except _OutOfTime:
        report.complete = False
    report.seconds = clock.elapsed()
    return report
