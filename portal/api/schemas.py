"""The API's representations (marshmallow schemas): what each endpoint returns and takes, and
so what the OpenAPI document says. Names follow plone.restapi: `@id` is an object's URL,
`@type` its kind; lists are batched (`items`, `items_total`, `batching`)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate


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
    last = fields.String(required=True)
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


class Measure(_Out):
    id = fields.Integer(required=True)
    label = fields.String(required=True)
    text = fields.String(required=True)
    status = fields.String(required=True)
    deadline = fields.Date(allow_none=True, required=True)


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
    measures = fields.List(fields.Nested(Measure), required=True)
    workflow = fields.String(data_key="@workflow", required=True)


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
    time = fields.DateTime(required=True)


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
    inspection = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


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
