"""The API's representations (marshmallow schemas): what each endpoint returns and takes, and
so what the OpenAPI document says. Names follow plone.restapi: `@id` is an object's URL,
`@type` its kind; lists are batched (`items`, `items_total`, `batching`)."""

from __future__ import annotations

from datetime import UTC

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

from portal.audit.models import AuditEvent as _AuditEvent
from portal.auditing.log import OBJECT_TYPES
from portal.core.forms import money_problem
from portal.feedback.models import KINDS
from portal.inspections.models import LABEL_MAX_LENGTH, TEXT_MAX_LENGTH, TITLE_MAX_LENGTH
from portal.versions.models import NOTE_MAX_LENGTH
from workflows import MODERATION

#: A database id (what the URL map takes: portal.app.IdConverter).
_ID = validate.Range(min=1, max=2**31 - 1)


class Money(fields.Decimal):
    """An amount in yuan, as the forms take it (two decimals at most, not negative), as text."""

    def __init__(self, **kwargs):
        super().__init__(as_string=True, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        amount = super()._deserialize(value, attr, data, **kwargs)
        problem = money_problem(amount)
        if problem:
            raise ValidationError(problem)
        return amount


class Time(fields.DateTime):
    """A moment, in RFC 3339 with its offset: the database keeps naive UTC times."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class _Out(Schema):
    class Meta:
        ordered = True


class Link(_Out):
    _id = fields.String(data_key="@id", required=True)
    id = fields.Integer(required=True)
    title = fields.String(required=True)


class Named(_Out):
    """A state or level: its id and its title in the caller's language."""

    id = fields.String(required=True)
    title = fields.String(required=True)


class Batching(_Out):
    _id = fields.String(data_key="@id", required=True)
    first = fields.String(required=True)
    last = fields.String(metadata={"description": "absent where the list is paged by keyset"})
    next = fields.String()
    prev = fields.String()


class _Listing(_Out):
    _id = fields.String(data_key="@id", required=True)
    items_total = fields.Integer(required=True)
    batching = fields.Nested(Batching)


class InspectionSummary(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    inspected_unit = fields.String(required=True)


class Inspection(InspectionSummary):
    inspection_team = fields.String(required=True)
    approval_policy = fields.String(required=True)
    categories = fields.String(required=True, metadata={"description": "the URL of its categories"})
    items = fields.String(required=True, metadata={"description": "the URL of its items"})


class InspectionListing(_Listing):
    items = fields.List(fields.Nested(InspectionSummary), required=True)


class ItemSummary(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    title = fields.String(required=True)
    state = fields.Nested(Named, required=True)
    deadline = fields.Date(allow_none=True, required=True)


class MeasureSummary(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    text = fields.String(required=True)
    status = fields.String(
        required=True, metadata={"description": "open, done, long_term (长期坚持) or not_applicable"}
    )
    deadline = fields.Date(allow_none=True, required=True)


class Measure(MeasureSummary):
    status_reason = fields.String(required=True)
    item = fields.Nested(Link, required=True)


class MeasureListing(_Listing):
    items = fields.List(fields.Nested(MeasureSummary), required=True)


class Item(ItemSummary):
    inspection = fields.Nested(Link, required=True)
    category = fields.Nested(Link, allow_none=True, required=True)
    publication_state = fields.Nested(Named, required=True)
    deadline_level = fields.Nested(Named, required=True)
    department = fields.Nested(Link, allow_none=True, required=True)
    responsible_leader = fields.Nested(Link, allow_none=True, required=True)
    staff = fields.Nested(Link, allow_none=True, required=True)
    progress = fields.Integer(required=True)
    feedback_text = fields.String(required=True)
    completion_summary = fields.String(required=True)
    public_summary = fields.String(required=True)
    money_to_recover = fields.Decimal(as_string=True, allow_none=True, required=True)
    money_recovered = fields.Decimal(as_string=True, allow_none=True, required=True)
    version = fields.Integer(required=True)
    measures = fields.List(fields.Nested(MeasureSummary), required=True)
    workflow = fields.String(data_key="@workflow", required=True)
    evidence = fields.String(required=True, metadata={"description": "the URL of its evidence"})
    feedback = fields.String(required=True, metadata={"description": "the URL of its feedback"})


class ItemPatch(Schema):
    """The fields an edit changes; those left out stay as they are. Ids of people, the
    department and the category are checked as the edit form's choices are; `null` clears."""

    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(min=1, max=TITLE_MAX_LENGTH))
    number = fields.String(validate=validate.Length(max=LABEL_MAX_LENGTH))
    feedback_text = fields.String(validate=validate.Length(max=TEXT_MAX_LENGTH))
    completion_summary = fields.String(validate=validate.Length(max=TEXT_MAX_LENGTH))
    public_summary = fields.String(validate=validate.Length(max=TEXT_MAX_LENGTH))
    category_id = fields.Integer(allow_none=True, strict=True, validate=_ID)
    responsible_leader_id = fields.Integer(allow_none=True, strict=True, validate=_ID)
    department_id = fields.Integer(allow_none=True, strict=True, validate=_ID)
    staff_id = fields.Integer(allow_none=True, strict=True, validate=_ID)
    deadline = fields.Date(allow_none=True)
    money_to_recover = Money(allow_none=True)
    money_recovered = Money(allow_none=True)
    progress_override = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=100))
    change_note = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX_LENGTH))
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=_ID,
        metadata={"description": "the item's version the caller saw (409 if it changed since)"},
    )


class ItemListing(_Listing):
    items = fields.List(fields.Nested(ItemSummary), required=True)


class HistoryEntry(_Out):
    workflow = fields.String(required=True)
    action = fields.String(required=True)
    title = fields.String(required=True)
    actor = fields.String(allow_none=True, required=True)
    comment = fields.String(required=True)
    from_state = fields.String(data_key="from", required=True)
    to_state = fields.String(data_key="to", required=True)
    time = Time(required=True)


class TransitionLink(_Out):
    _id = fields.String(data_key="@id", required=True)
    id = fields.String(required=True)
    title = fields.String(required=True)


class Workflow(_Out):
    _id = fields.String(data_key="@id", required=True)
    state = fields.Nested(Named, required=True)
    history = fields.List(fields.Nested(HistoryEntry), required=True)
    transitions = fields.List(fields.Nested(TransitionLink), required=True)


class FireArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    comment = fields.String(load_default="", validate=validate.Length(max=2000))
    version = fields.Integer(
        load_default=None,
        allow_none=True,
        strict=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "the item's version the caller saw (409 if it changed since)"},
    )


class Snippet(_Out):
    kind = fields.String(required=True)
    text = fields.String(required=True, metadata={"description": "with the terms in <mark>…</mark>"})


class SearchHit(ItemSummary):
    snippets = fields.List(fields.Nested(Snippet), required=True)


class SearchResults(_Listing):
    items = fields.List(fields.Nested(SearchHit), required=True)
    problems = fields.List(fields.String(), required=True)


class BatchArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    b_start = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10**6))
    b_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class ItemArgs(BatchArgs):
    inspection = fields.Integer(validate=_ID)
    category = fields.Integer(validate=_ID)


class SearchArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    q = fields.String(load_default="", validate=validate.Length(max=400))
    b_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))
    after = fields.String(load_default=None, validate=validate.Length(max=40))


class ApiError(_Out):
    """Every error's body (portal.core.handlers.render_error), as plone.restapi's."""

    type = fields.String(required=True, metadata={"description": "Unauthorized, NotFound, ValidationError …"})
    message = fields.String(required=True, metadata={"description": "in the caller's language"})
    errors = fields.Dict(metadata={"description": "what was wrong with each argument or field"})


class CategorySummary(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    label = fields.String(required=True, metadata={"description": "as written: 一, 二 …"})
    title = fields.String(required=True)
    items = fields.String(required=True, metadata={"description": "the URL of its items"})


class Category(CategorySummary):
    inspection = fields.Nested(Link, required=True)


class CategoryListing(_Listing):
    items = fields.List(fields.Nested(CategorySummary), required=True)


class Evidence(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(("file", "note")))
    note = fields.String(required=True)
    filename = fields.String(allow_none=True, required=True)
    size = fields.Integer(allow_none=True, required=True)
    content_type = fields.String(allow_none=True, required=True)
    sha256 = fields.String(allow_none=True, required=True)
    public = fields.Boolean(required=True)
    added_by = fields.Nested(Link, allow_none=True, required=True)
    added_at = Time(required=True)
    withdrawn_at = Time(allow_none=True, required=True)
    withdrawn_by = fields.Nested(Link, allow_none=True, required=True)
    item = fields.Nested(Link, required=True)
    download = fields.String(
        data_key="@download", allow_none=True, required=True, metadata={"description": "files only"}
    )


class EvidenceListing(_Listing):
    items = fields.List(fields.Nested(Evidence), required=True)


class Contact(_Out):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(required=True)


class Feedback(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    kind = fields.Nested(Named, required=True)
    text = fields.String(required=True)
    state = fields.Nested(Named, required=True)
    reply = fields.String(required=True)
    replied_at = Time(allow_none=True, required=True)
    created_at = Time(required=True)
    inspection = fields.Nested(Link, required=True)
    item = fields.Nested(Link, allow_none=True, required=True)
    forwarded_department = fields.Nested(Link, allow_none=True, required=True)
    forwarded_at = Time(allow_none=True, required=True)
    forward_handled_at = Time(allow_none=True, required=True)
    contact = fields.Nested(
        Contact, metadata={"description": "the office's and auditors' only: private to everyone else"}
    )


class FeedbackListing(_Listing):
    items = fields.List(fields.Nested(Feedback), required=True)


class FeedbackArgs(BatchArgs):
    state = fields.String(validate=validate.OneOf([s.id for s in MODERATION.states]))
    kind = fields.String(validate=validate.OneOf(KINDS))
    inspection = fields.Integer(validate=_ID)
    item = fields.Integer(validate=_ID)


class Department(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    title = fields.String(required=True)


class DepartmentListing(_Listing):
    items = fields.List(fields.Nested(Department), required=True)


class User(_Out):
    _id = fields.String(data_key="@id", required=True)
    _type = fields.String(data_key="@type", required=True)
    id = fields.Integer(required=True)
    login = fields.String(required=True)
    display_name = fields.String(required=True)
    email = fields.String(allow_none=True, required=True)
    department = fields.Nested(Link, allow_none=True, required=True)
    roles = fields.List(fields.String(), required=True)
    active = fields.Boolean(required=True)
    created_at = Time(required=True)


class UserListing(_Listing):
    items = fields.List(fields.Nested(User), required=True)


class UserArgs(BatchArgs):
    active = fields.Boolean()


class AuditEvent(_Out):
    """One link of the audit chain, as stored: `hash` covers the others (see the verify script)."""

    seq = fields.Integer(required=True)
    at = Time(required=True, metadata={"description": "UTC"})
    actor = fields.String(required=True)
    actor_id = fields.Integer(allow_none=True, required=True)
    action = fields.String(required=True)
    object_type = fields.String(required=True)
    object_id = fields.String(required=True)
    inspection_id = fields.Integer(allow_none=True, required=True)
    payload = fields.Dict(required=True)
    prev_hash = fields.String(required=True)
    hash = fields.String(required=True)


class AuditLog(_Out):
    _id = fields.String(data_key="@id", required=True)
    items = fields.List(fields.Nested(AuditEvent), required=True)
    batching = fields.Nested(Batching)


class AuditArgs(Schema):
    """The audit log page's filters; newest first, a page older than `before` (a seq)."""

    class Meta:
        unknown = EXCLUDE

    actor = fields.String(validate=validate.Length(max=_AuditEvent.actor.type.length))
    action = fields.String(validate=validate.Length(max=_AuditEvent.action.type.length))
    object_type = fields.String(validate=validate.OneOf(OBJECT_TYPES))
    object_id = fields.String(validate=validate.Length(max=_AuditEvent.object_id.type.length))
    inspection = fields.Integer(validate=_ID)
    since = fields.Date()
    until = fields.Date()
    before = fields.Integer(validate=validate.Range(min=1, max=2**62))
    b_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
