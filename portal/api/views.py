"""The REST API (`/api`), after plone.restapi: JSON, `@id` links, batched lists, `@workflow`.

Every endpoint answers through the same policy as the pages: lists go through the permission
filters in SQL, an object through `load` (404 when the caller may not see it, 403 when they see
it but may not do this), a transition through the one `fire()` with its audit events. Callers
authenticate with a personal access token (portal.api.auth); without one they get the public
endpoints only (`/api/public/…`), whose answers are what the public pages show. The OpenAPI
document (`/api/openapi.json`) is generated from these views and their schemas.
"""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Blueprint as FlaskBlueprint
from flask import current_app, render_template
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api, abort
from markupsafe import escape

from portal.accounts.models import Department, active_users_with
from portal.api import auth, documents
from portal.api import schemas as s
from portal.api.common import batched, bp, department, link, links, named, person, url
from portal.audit.chain import Actor
from portal.core.errors import NotAllowed
from portal.core.extensions import db, limiter
from portal.core.filters import permitted, visible
from portal.core.loading import load, load_public
from portal.core.models import WorkflowHistory
from portal.core.policy import ANONYMOUS, allowed_transitions, refused_fields
from portal.core.timeutil import today
from portal.core.titles import action_title, title_of, transition_title
from portal.core.transitions import fire
from portal.inspections.models import Category, Inspection, RectificationItem
from portal.inspections.operations import item_progress, update_document
from portal.search import query as search_query
from portal.search.messages import problem_message
from portal.supervision.levels import item_level
from portal.versions.display import field_label

Item = RectificationItem
TOKEN = [{"token": []}]


class PortalApi(Api):
    """flask-smorest's Api without its error handlers: the portal's one handler answers every
    error, in JSON under /api (portal.core.handlers)."""

    ERROR_SCHEMA = s.ApiError

    def _register_error_handlers(self):
        pass


def init_api(app) -> None:
    app.config.setdefault("API_TITLE", "Rectify · 巡察整改督办平台")
    app.config.setdefault("API_VERSION", "1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api = PortalApi(
        spec_kwargs={
            "components": {
                "securitySchemes": {"token": {"type": "http", "scheme": "bearer", "bearerFormat": "rfy_…"}}
            }
        }
    )
    api.init_app(app)
    # ids in paths, as the URL map takes them (portal.app.IdConverter)
    converter = app.url_map.converters["int"]
    api.register_converter(converter, lambda c: {"type": "integer", "minimum": 0, "maximum": converter.MAX})
    api.register_blueprint(bp)
    app.register_blueprint(docs_bp)


@bp.before_request
def _authenticate():
    auth.authenticate()


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=auth.rate_key)(bp)


# --- the root ------------------------------------------------------------------------------


@bp.route("/")
@bp.response(200)
@bp.doc(summary="The API's entry points", security=[{}, {"token": []}])
def root():
    return {
        "@id": url("api.root"),
        "@type": "Site",
        "title": current_app.config.get("API_TITLE"),
        "inspections": url("api.inspections"),
        "items": url("api.items"),
        "search": url("api.search"),
        "feedback": url("api.feedback"),
        "departments": url("api.departments"),
        "users": url("api.users"),
        "audit_log": url("api.audit_log"),
        "public": {"items": url("api.public_items"), "search": url("api.public_search")},
        "openapi": url("api-docs.openapi_json"),
        "signed_in": current_user.is_authenticated,
    }


# --- inspections and items -----------------------------------------------------------------


def _inspection_summary(obj: Inspection) -> dict:
    return {
        "_id": url("api.inspection", inspection_id=obj.id),
        "_type": "Inspection",
        "id": obj.id,
        "title": obj.title,
        "inspected_unit": obj.inspected_unit or "",
    }


@bp.route("/inspections")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.InspectionListing)
@bp.doc(
    **links(
        Inspection=(
            "get",
            "/api/inspections/{inspection_id}",
            {"inspection_id": "$response.body#/items/0/id"},
        )
    )
)
@bp.doc(summary="The inspections I may see", security=[{"token": []}])
def inspections(args):
    select = sa.select(Inspection).where(visible(current_user, Inspection)).order_by(Inspection.id)
    return batched("api.inspections", select, args, _inspection_summary)


@bp.route("/inspections/<int:inspection_id>")
@auth.signed_in
@bp.response(200, s.Inspection)
@bp.doc(
    **links(
        Categories=(
            "get",
            "/api/inspections/{inspection_id}/categories",
            {"inspection_id": "$response.body#/id"},
        )
    )
)
@bp.doc(summary="One inspection", security=[{"token": []}])
def inspection(inspection_id: int):
    obj = load(Inspection, inspection_id)
    return {
        **_inspection_summary(obj),
        "inspection_team": obj.inspection_team or "",
        "approval_policy": obj.approval_policy,
        "categories": url("api.inspection_categories", inspection_id=obj.id),
        "items": url("api.items", inspection=obj.id),
    }


def ITEM_LINKS(item_id: str) -> dict:  # noqa: N802 (a table of links, as the others)
    """From an item (`item_id`: where its id is in the answer) to what it holds."""
    return links(
        Item=("get", "/api/items/{item_id}", {"item_id": item_id}),
        Workflow=("get", "/api/items/{item_id}/@workflow", {"item_id": item_id}),
        Measures=("get", "/api/items/{item_id}/measures", {"item_id": item_id}),
        Evidence=("get", "/api/items/{item_id}/evidence", {"item_id": item_id}),
        Edit=("patch", "/api/items/{item_id}", {"item_id": item_id}),
    )


def _item_summary(obj: Item, endpoint: str = "api.item") -> dict:
    return {
        "_id": url(endpoint, item_id=obj.id),
        "_type": "RectificationItem",
        "id": obj.id,
        "number": obj.number or "",
        "title": obj.title,
        "state": named("rectification", obj.state),
        "deadline": obj.deadline,
    }


def _item(obj: Item) -> dict:
    level = item_level(obj, today())
    return {
        **_item_summary(obj),
        "inspection": link(
            "api.inspection", obj.inspection, obj.inspection.title, inspection_id=obj.inspection_id
        ),
        "category": None
        if obj.category is None
        else link("api.category", obj.category, obj.category.title, category_id=obj.category_id),
        "publication_state": named("publication", obj.publication_state),
        "deadline_level": {"id": level.id, "title": title_of(level)},
        "department": department(obj.department),
        "responsible_leader": person(obj.responsible_leader),
        "staff": person(obj.staff),
        "progress": item_progress(obj),
        "feedback_text": obj.feedback_text or "",
        "completion_summary": obj.completion_summary or "",
        "public_summary": obj.public_summary or "",
        "money_to_recover": obj.money_to_recover,
        "money_recovered": obj.money_recovered,
        "version": obj.version,
        "measures": [documents.measure_summary(m) for m in obj.measures],
        "workflow": url("api.item_workflow", item_id=obj.id),
        "evidence": url("api.item_evidence", item_id=obj.id),
        "feedback": url("api.feedback", item=obj.id),
    }


@bp.route("/items")
@auth.signed_in
@bp.arguments(s.ItemArgs, location="query")
@bp.response(200, s.ItemListing)
@bp.doc(**ITEM_LINKS("$response.body#/items/0/id"))
@bp.doc(summary="The items I may see (the worklists' permission filter)", security=[{"token": []}])
def items(args):
    select = sa.select(Item).where(visible(current_user, Item))
    if args.get("inspection"):
        select = select.where(Item.inspection_id == args["inspection"])
    if args.get("category"):
        select = select.where(Item.category_id == args["category"])
    return batched("api.items", select.order_by(Item.id), args, _item_summary)


@bp.route("/items/<int:item_id>")
@auth.signed_in
@bp.response(200, s.Item)
@bp.doc(**ITEM_LINKS("$request.path.item_id"))
@bp.doc(summary="One item, with its measures", security=[{"token": []}])
def item(item_id: int):
    return _item(load(Item, item_id))


#: What PATCH takes for each field id: the kind of object, and who may be chosen (the edit
#: form's choices: the inspection's categories, active leaders and staff, any department).
_CHOICES = {
    "category_id": lambda item, id_: db.session.scalar(
        sa.select(Category.id).where(Category.id == id_, Category.inspection_id == item.inspection_id)
    ),
    "responsible_leader_id": lambda _item, id_: id_ in {u.id for u in active_users_with("leader")},
    "staff_id": lambda _item, id_: id_ in {u.id for u in active_users_with("staff")},
    "department_id": lambda _item, id_: db.session.get(Department, id_),
}


class FieldsRefused(NotAllowed):
    """The caller edits the item but not these fields (HTTP 403, naming them, as the edit form
    shows them fixed)."""

    explained = True


@bp.route("/items/<int:item_id>", methods=["PATCH"])
@auth.writes
@bp.arguments(s.ItemPatch)
@bp.response(200, s.Item)
@bp.alt_response(409, schema=s.ApiError, description="the item changed since the given version")
@bp.doc(summary="Edit an item's fields (the edit form's own update, versioned, audited)", security=TOKEN)
def edit_item(args, item_id: int):
    obj = load(Item, item_id, "edit")
    note, version = args.pop("change_note"), args.pop("version")
    wrong = {
        name: [_("Not one of the choices.")]
        for name, allowed in _CHOICES.items()
        if args.get(name) is not None and not allowed(obj, args[name])
    }
    if wrong:
        abort(422, messages={"json": wrong})
    refused = refused_fields(current_user, obj, args)
    if refused:
        labels = "、".join(field_label("item", name) for name in refused)
        raise FieldsRefused(_("Only the inspection office may change: %(fields)s.", fields=labels))
    update_document(Actor.of(current_user), obj, args, note, version)
    db.session.commit()
    return _item(obj)


# --- @workflow -----------------------------------------------------------------------------


def _workflow(obj: Item) -> dict:
    history = db.session.scalars(
        sa.select(WorkflowHistory)
        .where(WorkflowHistory.object_type == "item", WorkflowHistory.object_id == obj.id)
        .options(so.selectinload(WorkflowHistory.actor))
        .order_by(WorkflowHistory.id)
    ).all()
    offered = allowed_transitions(current_user, obj)
    return {
        "_id": url("api.item_workflow", item_id=obj.id),
        "state": named("rectification", obj.state),
        "history": [
            {
                "action": h.action,
                "workflow": h.workflow,
                "title": action_title(h.workflow, h.action),
                "actor": h.actor.display_name if h.actor else None,
                "comment": h.comment or "",
                "from_state": h.from_state,
                "to_state": h.to_state,
                "time": h.at,
            }
            for h in history
        ],
        "transitions": [
            {
                "_id": url("api.fire_transition", item_id=obj.id, transition_id=t.id),
                "id": t.id,
                "title": transition_title(t),
            }
            for t in offered
        ],
    }


@bp.route("/items/<int:item_id>/@workflow")
@auth.signed_in
@bp.response(200, s.Workflow)
@bp.doc(
    **links(
        Fire=(
            "post",
            "/api/items/{item_id}/@workflow/{transition_id}",
            {"item_id": "$request.path.item_id", "transition_id": "$response.body#/transitions/0/id"},
        )
    )
)
@bp.doc(summary="The item's history and the transitions I may fire", security=[{"token": []}])
def item_workflow(item_id: int):
    return _workflow(load(Item, item_id))


@bp.route("/items/<int:item_id>/@workflow/<transition_id>", methods=["POST"])
@auth.writes
@bp.arguments(s.FireArgs)
@bp.response(200, s.Workflow)
@bp.alt_response(409, schema=s.ApiError, description="the item changed since the given version")
@bp.doc(summary="Fire one transition, with a comment (the web's own fire())", security=[{"token": []}])
def fire_transition(args, item_id: int, transition_id: str):
    obj = load(Item, item_id)
    fire(
        Actor.of(current_user), obj, transition_id, comment=args["comment"], expected_version=args["version"]
    )
    db.session.commit()
    return _workflow(obj)


# --- search --------------------------------------------------------------------------------


def _search(args, user, endpoint: str, item_endpoint: str) -> dict:
    search, terms, problems = search_query.parse_args({"q": args["q"]}, public=user is None)
    messages = list(problems)
    try:
        found = search_query.results(
            search, terms, user, today(), after=args["after"], per_page=args["b_size"], facets=()
        )
    except ValueError:
        found = search_query.results(search, terms, user, today(), per_page=args["b_size"], facets=())
        messages.append(search_query.Problem("after", "unknown"))

    def marked(pieces) -> str:
        return "".join(f"<mark>{escape(t)}</mark>" if hit else str(escape(t)) for t, hit in pieces)

    here = {"q": args["q"], "b_size": args["b_size"]}
    listing = {
        "_id": url(endpoint)
        + "?"
        + urlencode({**here, **({"after": args["after"]} if args["after"] else {})}),
        "items_total": found.total,
        "items": [
            {
                **_item_summary(hit.item, item_endpoint),
                "snippets": [{"kind": k, "text": marked(p)} for k, p in hit.snippets],
            }
            for hit in found.hits
        ],
        "problems": [_problem_text(p) for p in messages],
    }
    if found.next_after:
        first = url(endpoint) + "?" + urlencode(here)
        listing["batching"] = {
            "_id": listing["_id"],
            "first": first,
            "next": url(endpoint) + "?" + urlencode({**here, "after": found.next_after}),
        }
    return listing


def _problem_text(problem) -> str:
    if problem.name == "after":
        return _("That page of results is no longer there: here is the first page.")
    return problem_message(problem)


@bp.route("/@search")
@auth.signed_in
@bp.arguments(s.SearchArgs, location="query")
@bp.response(200, s.SearchResults)
@bp.doc(**links(Item=("get", "/api/items/{item_id}", {"item_id": "$response.body#/items/0/id"})))
@bp.doc(summary="Search what I may see (the pages' search)", security=[{"token": []}])
def search(args):
    return _search(args, current_user, "api.search", "api.item")


# --- the public endpoints ------------------------------------------------------------------


@bp.route("/public/items")
@bp.arguments(s.ItemArgs, location="query")
@bp.response(200, s.ItemListing)
@bp.doc(**links(Item=("get", "/api/public/items/{item_id}", {"item_id": "$response.body#/items/0/id"})))
@bp.doc(summary="Published items", security=[{}])
def public_items(args):
    select = sa.select(Item).where(permitted(ANONYMOUS, Item, "view_public"))
    if args.get("inspection"):
        select = select.where(Item.inspection_id == args["inspection"])
    return batched(
        "api.public_items", select.order_by(Item.id), args, lambda i: _item_summary(i, "api.public_item")
    )


@bp.route("/public/items/<int:item_id>")
@bp.response(200, s.ItemSummary)
@bp.doc(summary="One published item", security=[{}])
def public_item(item_id: int):
    return _item_summary(load_public(Item, item_id), "api.public_item")


@bp.route("/public/@search")
@bp.arguments(s.SearchArgs, location="query")
@bp.response(200, s.SearchResults)
@bp.doc(**links(Item=("get", "/api/public/items/{item_id}", {"item_id": "$response.body#/items/0/id"})))
@bp.doc(summary="Search the published items (the public search page's search)", security=[{}])
def public_search(args):
    return _search(args, None, "api.public_search", "api.public_item")


docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.route("/api/docs")
def docs():
    """The API's documentation, read from its OpenAPI document, served from here."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)
