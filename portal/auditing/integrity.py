"""Integrity verification beyond the chain (完整性核验): state replay, reconciliation of the
stored rows, evidence re-hashing.

The chain proves that nobody rewrote the events. These checks prove that the documents agree
with the events:

* **State replay.** Each inspection's and item's workflow states, each feedback's moderation
  state and each extension request's state are replayed from the creation event through every
  transition event (checking each step against the workflow definition) and compared with the
  stored state. An UPDATE behind the application's back shows up as a disagreement naming the
  object and the seq of the last event that set the state.
* **Reconciliation (对账).** Every payload is folded into the rows it implies (documents and
  their versions, approvals, workflow history, grants, users and roles, feedback …; see
  `portal.auditing.expected`), which are compared with the stored rows
  (`portal.auditing.reconcile`): an edited value, a row inserted without its event and a row
  deleted are each reported with the object and a seq.
* **Evidence.** Every stored evidence file is re-hashed and compared with the SHA-256 recorded
  in its `evidence.add` event (and with the one on its row).

`verify_everything` walks the chain once, doing the replay in the same pass (its memory grows
with the number of rows, not of events); `verify_inspection` checks the events of one
inspection (each one's hash and both its links) and its documents. Both stop when their time
budget runs out and say so, rather than running unbounded.
"""

from __future__ import annotations

import functools
import gc
import json
import json.scanner
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
from portal.auditing.expected import ACTIONS as ROW_ACTIONS
from portal.auditing.expected import ExpectedRows
from portal.auditing.reconcile import Reconciler, Scope
from portal.core.extensions import db
from portal.deadlines.models import ExtensionRequest
from portal.evidence.models import Evidence
from portal.evidence.storage import FileStore
from portal.feedback.models import Feedback
from portal.inspections.models import Category, Inspection, Measure, RectificationItem
from workflows import WORKFLOWS

MAX_LISTED_PROBLEMS = 50
_CHECK_CLOCK_EVERY = 5000


@dataclass
class Problem:
    kind: str  # chain, checkpoint, state, row, evidence
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
    rows_reconciled: int = 0
    #: every kind of problem found, listed or not
    problem_kinds: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.complete and self.problem_count == 0

    @property
    def chain_intact(self) -> bool:
        """Whether the chain (and the checkpoint it was checked against) showed no problem:
        then its head may be signed, whatever the documents' problems."""
        return self.complete and not {"chain", "checkpoint"} & set(self.problem_kinds)

    @property
    def full(self) -> bool:
        """Whether further problems are only counted (their messages need not be worded)."""
        return len(self.problems) >= MAX_LISTED_PROBLEMS

    def add(self, kind: str, obj: str | None, seq: int | None, message: str | None) -> None:
        self.problem_count += 1
        if kind not in self.problem_kinds:
            self.problem_kinds.append(kind)
        if not self.full:
            self.problems.append(Problem(kind, obj, seq, message or ""))

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


def _collector_paused(check: Callable) -> Callable:
    """Run `check` with the cyclic garbage collector paused. The replay makes millions of
    small objects and keeps them to the end; each collection of the oldest generation would
    walk them all again (a fifth of the run, measured at 200k events). Reference counting
    still frees everything else as it goes."""

    @functools.wraps(check)
    def paused(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return check(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return paused


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
    "inspection.create": ("inspection", {"lifecycle": None}),
    "item.create": (
        "item",
        {"rectification": "state", "publication": "publication_state", "lifecycle": None},
    ),
    "feedback.submit": ("feedback", {"moderation": None}),
    "extension.request": ("extension", {"extension": "extension_state"}),
}
#: step action prefix -> (object types, the workflow when the payload names none)
_STEP_PREFIXES = {
    "workflow.": (("item", "inspection"), None),
    "moderation.": (("feedback",), "moderation"),
    "extension.": (("extension",), "extension"),
}
_STEPS = tuple(_STEP_PREFIXES)
#: the actions whose payload the replay reads (beyond the steps)
_INTERESTING = frozenset({*_CREATIONS, "evidence.add", *ROW_ACTIONS})
#: the workflow of each object type whose replay counts the object once
_COUNTED = ("rectification", "moderation", "extension")


_scan = json.scanner.make_scanner(json.JSONDecoder())  # what json.loads runs, minus two regexes


def _loads(payload: str) -> Any:
    """`json.loads(payload)`, None when it is not JSON: the scanner alone when the payload is
    one value from its first character to its last (every canonical payload), else json.loads
    itself (leading or trailing blanks, errors), so that the answer is the same."""
    try:
        value, end = _scan(payload, 0)
        if end == len(payload):
            return value
    except (StopIteration, ValueError, TypeError):
        pass
    try:
        return json.loads(payload)
    except (ValueError, TypeError):
        return None


class Replay:
    """Fold events into the states and evidence hashes they imply."""

    def __init__(self, report: IntegrityReport):
        self.report = report
        #: the rows the history implies (compared by `reconcile`)
        self.rows = ExpectedRows()
        self._uncreated: set[str] = set()
        #: the actions seen whose payload nothing reads
        self._ignored: set[str] = set()
        #: (object type, object id, workflow id) -> (state, seq that set it)
        self.states: dict[tuple[str, str, str], tuple[str, int]] = {}
        #: evidence id -> (sha256, seq)
        self.evidence: dict[int, tuple[str, int]] = {}

    def feed_row(self, row: tuple) -> None:
        """`feed` for a row of `iter_event_rows` (the action looked at first: a quarter of
        the events, sign-ins, are of no interest to the replay)."""
        if row[4] in self._ignored:
            return
        seq, _at, actor_id, _actor, action, otype, oid, payload = row[:8]
        self.feed(seq, action, otype, oid, payload, actor_id)

    def feed(
        self, seq: int, action: str, otype: str, oid: str, payload: str, actor_id: int | None = None
    ) -> None:
        if action in self._ignored:
            return
        if action not in _INTERESTING and not action.startswith(_STEPS):
            self._ignored.add(action)
            return
        data = _loads(payload)
        if not isinstance(data, dict):
            self.report.add(
                "state",
                f"{otype}:{oid}",
                seq,
                _("seq %(seq)d: the payload of %(action)s cannot be read", seq=seq, action=action),
            )
            return
        self.rows.feed(seq, actor_id, action, otype, oid, data)
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
        elif action.startswith(_STEPS):
            prefix = next(p for p in _STEP_PREFIXES if action.startswith(p))
            kinds, default_workflow = _STEP_PREFIXES[prefix]
            if otype not in kinds:
                return
            wf_id = data.get("workflow") or default_workflow
            self._step(seq, action[len(prefix) :], otype, oid, data, wf_id, actor_id)

    def _step(self, seq, transition_id, otype, oid, data, wf_id, actor_id=None) -> None:
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
        self.rows.step(seq, actor_id, otype, oid, transition, data)

    def compare_states(
        self,
        items: Iterable[tuple],
        feedback: Iterable[tuple],
        extensions: Iterable[tuple] = (),
        inspections: Iterable[tuple] = (),
    ) -> None:
        """Compare stored states with the replayed ones."""
        for inspection_id, lifecycle_state in inspections:
            self._compare("inspection", str(inspection_id), "lifecycle", lifecycle_state)
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
            if where not in self._uncreated:  # once, not once per workflow
                self._uncreated.add(where)
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

    def reconcile(self, scope: Scope, clock: _Clock | None = None) -> None:
        """Compare the stored rows in `scope` with the rows the history implies."""
        Reconciler(self.rows, self.report, scope, tick=clock.check if clock else lambda: None).run()

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


@_collector_paused
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
            db.session.execute(sa.select(Inspection.id, Inspection.lifecycle_state)),
        )
        if progress:
            progress("reconciling the stored rows with the history")
        replay.reconcile(Scope(), clock)
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

    feed, check = replay.feed_row, clock.check

    def each(row: tuple) -> None:
        feed(row)
        if row[0] % _CHECK_CLOCK_EVERY == 0:
            check()

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


@_collector_paused
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
    measure_ids = sa.select(sa.cast(Measure.id, sa.String)).where(
        Measure.item_id.in_(
            sa.select(RectificationItem.id).where(RectificationItem.inspection_id == inspection_id)
        )
    )
    category_ids = sa.select(sa.cast(Category.id, sa.String)).where(Category.inspection_id == inspection_id)
    request_ids = sa.select(sa.cast(ExtensionRequest.id, sa.String)).where(
        ExtensionRequest.inspection_id == inspection_id
    )
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
                sa.and_(e.object_type == "measure", e.object_id.in_(measure_ids)),
                sa.and_(e.object_type == "category", e.object_id.in_(category_ids)),
                sa.and_(e.object_type == "extension", e.object_id.in_(request_ids)),
                sa.and_(e.object_type == "inspection", e.object_id == str(inspection_id)),
            )
        )
        .order_by(e.seq)
    )
    try:
        streamed = query.execution_options(stream_results=True, yield_per=2000)  # not the connection's
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
        ) in db.session.connection().execute(streamed):
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
            replay.feed(seq, action, otype, oid, payload, actor_id)
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
            db.session.execute(
                sa.select(Inspection.id, Inspection.lifecycle_state).where(Inspection.id == inspection_id)
            ),
        )
        replay.reconcile(Scope(inspection=inspection_id), clock)
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
