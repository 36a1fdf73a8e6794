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
from flask import current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Api, Blueprint
from markupsafe import escape

from portal.api import auth
from portal.api import schemas as s
from portal.audit.chain import Actor
from portal.core.extensions import csrf, db, limiter
from portal.core.filters import permitted, visible
from portal.core.loading import load, load_public
from portal.core.models import WorkflowHistory
from portal.core.policy import ANONYMOUS, allowed_transitions
from portal.core.timeutil import today
from portal.core.titles import action_title, state_title, title_of, transition_title
from portal.core.transitions import fire
from portal.inspections.models import Inspection, RectificationItem
from portal.inspections.operations import item_progress
from portal.search import query as search_query
from portal.search.messages import problem_message
from portal.supervision.levels import item_level

Item = RectificationItem
bp = Blueprint("api", __name__, url_prefix="/api", description="巡察整改督办 REST API")
csrf.exempt(bp)  # the cookie is never read here: a token is the only way in


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


def _url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def _link(endpoint: str, obj, title: str, **values):
    return None if obj is None else {"_id": _url(endpoint, **values), "id": obj.id, "title": title}


def _person(user):
    return (
        None
        if user is None
        else {"_id": _url("api.root") + "#user-" + str(user.id), "id": user.id, "title": user.display_name}
    )


def _named(workflow_id: str, state: str) -> dict:
    return {"id": state, "title": state_title(workflow_id, state)}


def _batched(endpoint: str, select: sa.Select, args: dict, row, **values) -> dict:
    """A plone.restapi batch of `select`'s rows (b_start, b_size) with its links."""
    start, size = args["b_start"], args["b_size"]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(select.order_by(None).subquery()))
    rows = db.session.scalars(select.offset(start).limit(size)).all()
    here = {k: v for k, v in request.args.items() if k not in ("b_start", "b_size")}

    def at(n: int) -> str:
        return _url(endpoint, **values) + "?" + urlencode({**here, "b_start": n, "b_size": size})

    listing = {"_id": at(start), "items_total": total, "items": [row(r) for r in rows]}
    if total > size:
        last = max(0, (total - 1) // size * size)
        batching = {"_id": at(start), "first": at(0), "last": at(last)}
        if start + size < total:
            batching["next"] = at(start + size)
        if start > 0:
            batching["prev"] = at(max(0, start - size))
        listing["batching"] = batching
    return listing


# --- the root ------------------------------------------------------------------------------


@bp.route("/")
@bp.response(200)
@bp.doc(summary="The API's entry points", security=[{}, {"token": []}])
def root():
    return {
        "@id": _url("api.root"),
        "@type": "Site",
        "title": current_app.config.get("API_TITLE"),
        "inspections": _url("api.inspections"),
        "items": _url("api.items"),
        "search": _url("api.search"),
        "public": {"items": _url("api.public_items"), "search": _url("api.public_search")},
        "openapi": _url("api-docs.openapi_json"),
        "signed_in": current_user.is_authenticated,
    }


# --- inspections and items -----------------------------------------------------------------


def _inspection_summary(obj: Inspection) -> dict:
    return {
        "_id": _url("api.inspection", inspection_id=obj.id),
        "_type": "Inspection",
        "id": obj.id,
        "title": obj.title,
        "inspected_unit": obj.inspected_unit or "",
    }


@bp.route("/inspections")
@auth.signed_in
@bp.arguments(s.BatchArgs, location="query")
@bp.response(200, s.InspectionListing)
@bp.doc(summary="The inspections I may see", security=[{"token": []}])
def inspections(args):
    select = sa.select(Inspection).where(visible(current_user, Inspection)).order_by(Inspection.id)
    return _batched("api.inspections", select, args, _inspection_summary)


@bp.route("/inspections/<int:inspection_id>")
@auth.signed_in
@bp.response(200, s.Inspection)
@bp.doc(summary="One inspection", security=[{"token": []}])
def inspection(inspection_id: int):
    obj = load(Inspection, inspection_id)
    return {
        **_inspection_summary(obj),
        "inspection_team": obj.inspection_team or "",
        "approval_policy": obj.approval_policy,
        "items": _url("api.items", inspection=obj.id),
    }


def _item_summary(obj: Item, endpoint: str = "api.item") -> dict:
    return {
        "_id": _url(endpoint, item_id=obj.id),
        "_type": "RectificationItem",
        "id": obj.id,
        "number": obj.number or "",
        "title": obj.title,
        "state": _named("rectification", obj.state),
        "deadline": obj.deadline,
    }


def _item(obj: Item) -> dict:
    level = item_level(obj, today())
    return {
        **_item_summary(obj),
        "inspection": _link(
            "api.inspection", obj.inspection, obj.inspection.title, inspection_id=obj.inspection_id
        ),
        "category": None
        if obj.category is None
        else {
            "_id": _url("api.inspection", inspection_id=obj.inspection_id) + f"#category-{obj.category_id}",
            "id": obj.category_id,
            "title": obj.category.title,
        },
        "publication_state": _named("publication", obj.publication_state),
        "deadline_level": {"id": level.id, "title": title_of(level)},
        "department": None
        if obj.department is None
        else {
            "_id": _url("api.root") + f"#department-{obj.department_id}",
            "id": obj.department_id,
            "title": obj.department.name,
        },
        "responsible_leader": _person(obj.responsible_leader),
        "staff": _person(obj.staff),
        "progress": item_progress(obj),
        "feedback_text": obj.feedback_text or "",
        "completion_summary": obj.completion_summary or "",
        "public_summary": obj.public_summary or "",
        "money_to_recover": obj.money_to_recover,
        "money_recovered": obj.money_recovered,
        "version": obj.version,
        "measures": [
            {"id": m.id, "label": m.label, "text": m.text, "status": m.status, "deadline": m.deadline}
            for m in obj.measures
        ],
        "workflow": _url("api.item_workflow", item_id=obj.id),
    }


@bp.route("/items")
@auth.signed_in
@bp.arguments(s.ItemArgs, location="query")
@bp.response(200, s.ItemListing)
@bp.doc(summary="The items I may see (the worklists' permission filter)", security=[{"token": []}])
def items(args):
    select = sa.select(Item).where(visible(current_user, Item))
    if args.get("inspection"):
        select = select.where(Item.inspection_id == args["inspection"])
    return _batched("api.items", select.order_by(Item.id), args, _item_summary)


@bp.route("/items/<int:item_id>")
@auth.signed_in
@bp.response(200, s.Item)
@bp.doc(summary="One item, with its measures", security=[{"token": []}])
def item(item_id: int):
    return _item(load(Item, item_id))


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
        "_id": _url("api.item_workflow", item_id=obj.id),
        "state": _named("rectification", obj.state),
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
                "_id": _url("api.fire_transition", item_id=obj.id, transition_id=t.id),
                "id": t.id,
                "title": transition_title(t),
            }
            for t in offered
        ],
    }


@bp.route("/items/<int:item_id>/@workflow")
@auth.signed_in
@bp.response(200, s.Workflow)
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
        "_id": _url(endpoint)
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
        first = _url(endpoint) + "?" + urlencode(here)
        listing["batching"] = {
            "_id": listing["_id"],
            "first": first,
            "last": first,
            "next": _url(endpoint) + "?" + urlencode({**here, "after": found.next_after}),
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
@bp.doc(summary="Search what I may see (the pages' search)", security=[{"token": []}])
def search(args):
    return _search(args, current_user, "api.search", "api.item")


# --- the public endpoints ------------------------------------------------------------------


@bp.route("/public/items")
@bp.arguments(s.ItemArgs, location="query")
@bp.response(200, s.ItemListing)
@bp.doc(summary="Published items", security=[{}])
def public_items(args):
    select = sa.select(Item).where(permitted(ANONYMOUS, Item, "view_public"))
    if args.get("inspection"):
        select = select.where(Item.inspection_id == args["inspection"])
    return _batched(
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
@bp.doc(summary="Search the published items (the public search page's search)", security=[{}])
def public_search(args):
    return _search(args, None, "api.public_search", "api.public_item")


docs_bp = FlaskBlueprint("api_docs", __name__)


@docs_bp.route("/api/docs")
def docs():
    """The API's documentation, read from its OpenAPI document, served from here."""
    spec = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return render_template("api/docs.html", spec=spec)
