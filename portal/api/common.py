"""What every API module shares: the blueprint, links (`@id`), named states, batches and the
role check of endpoints that only some roles may call."""

from __future__ import annotations

from urllib.parse import urlencode

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import Blueprint

from portal.core.errors import NotAllowed
from portal.core.extensions import csrf, db
from portal.core.titles import state_title

bp = Blueprint("api", __name__, url_prefix="/api", description="巡察整改督办 REST API")
csrf.exempt(bp)  # the cookie is never read here: a token is the only way in


class RoleRequired(NotAllowed):
    """The caller lacks the global role an endpoint needs (HTTP 403, the reason said: it tells
    nothing about any object)."""

    explained = True


def require_role(*roles: str) -> None:
    """As the pages' `roles_required`: only holders of one of `roles` may call the endpoint."""
    if not current_user.has_role(*roles):
        raise RoleRequired(_("This endpoint is not open to your role."))


def url(endpoint: str, **values) -> str:
    return url_for(endpoint, _external=True, **values)


def link(endpoint: str, obj, title: str, **values):
    return None if obj is None else {"_id": url(endpoint, **values), "id": obj.id, "title": title}


def person(user):
    """A person named in a representation; their record is /api/users/<id> (admins, or they)."""
    return None if user is None else link("api.user", user, user.display_name, user_id=user.id)


def department(dept):
    return None if dept is None else link("api.department_one", dept, dept.name, department_id=dept.id)


def named(workflow_id: str, state: str) -> dict:
    return {"id": state, "title": state_title(workflow_id, state)}


def batched(endpoint: str, select: sa.Select, args: dict, row, **values) -> dict:
    """A plone.restapi batch of `select`'s rows (b_start, b_size) with its links."""
    start, size = args["b_start"], args["b_size"]
    total = db.session.scalar(sa.select(sa.func.count()).select_from(select.order_by(None).subquery()))
    rows = db.session.scalars(select.offset(start).limit(size)).all()
    here = {k: v for k, v in request.args.items() if k not in ("b_start", "b_size")}

    def at(n: int) -> str:
        return url(endpoint, **values) + "?" + urlencode({**here, "b_start": n, "b_size": size})

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


def links(**targets: tuple[str, str, dict[str, str]]) -> dict:
    """OpenAPI links of an operation's 200 answer, for `@bp.doc(**links(...))`: name ->
    (method, path, {parameter: runtime expression}). Clients (and schemathesis's stateful
    tests) follow them from a list to its objects, from an object to what it holds."""

    def ref(method: str, path: str) -> str:
        return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method

    return {
        "responses": {
            200: {  # (the key the response decorator uses: an int)
                "links": {
                    name: {"operationRef": ref(method, path), "parameters": parameters}
                    for name, (method, path, parameters) in targets.items()
                }
            }
        }
    }
