"""Names of states, transitions, workflows and roles in the user's language (Jinja globals).

Written once here; templates call `state_title(workflow_id, state_id)`,
`transition_title(transition)`, `action_title(workflow_id, transition_id)` and `role_label(role)`.
The other words the workflow definitions use as ids (permissions, guard conditions, requirements
and effects) have their labels here too, so that no page shows `follow_up` or
`not_approved_by_actor`; a test derives every id from the definitions and checks its label.
"""

from __future__ import annotations

from collections import Counter

from flask import Flask
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from workflows import WORKFLOWS

#: Global and local roles, as menus, forms and the Sharing tab name them.
ROLE_LABELS = {
    "admin": _l("Administrator"),
    "office": _l("Inspection office"),
    "leader": _l("Party group leader"),
    "staff": _l("Staff"),
    "auditor": _l("Auditor"),
    "Reader": _l("Reader"),
    "Editor": _l("Editor"),
    "Reviewer": _l("Reviewer"),
    # Roles that follow from an object's fields, and the pseudo roles.
    "ResponsibleLeader": _l("Responsible leader of the item"),
    "PartySecretary": _l("Party secretary of the inspection"),
    "Requester": _l("Who filed the extension request"),
    "Anonymous": _l("Everyone, including the public"),
    "Authenticated": _l("Every signed-in user"),
}

#: Permissions of the state maps and of the containers (inspections and categories).
PERMISSION_LABELS = {
    "view": _l("View it"),
    "edit": _l("Edit its content"),
    "work": _l("Carry out the rectification"),
    "review": _l("Review and approve"),
    "follow_up": _l("Run the follow-up check"),
    "share": _l("Manage its sharing"),
    "share_any": _l("Remove anyone's grants and block inherited ones"),
    "assign": _l("Assign its people, department, deadline and amount"),
    "report": _l("Report its progress and the money recovered"),
    "view_public": _l("See it on the public pages"),
    "publish": _l("Publish it to the public pages"),
    "moderate": _l("Moderate public feedback"),
    "add_item": _l("Add rectification items"),
    "withdraw": _l("Withdraw and restore it"),
    "request_extension": _l("Request a deadline extension"),
    "decide": _l("Decide on the extension request"),
    "withdraw_request": _l("Withdraw the extension request"),
}

#: Named conditions of guards and worklists (portal.core.conditions).
CONDITION_LABELS = {
    "not_approved_by_actor": _l("the user has not approved it yet"),
    "not_responsible_staff": _l("the user is not its responsible staff (责任人)"),
    "approval_policy_met": _l("every approval the approval policy asks for has been given"),
    "overdue": _l("its deadline has passed"),
    "due_soon": _l("its deadline is within 7 days"),
    "reported_not_fixed": _l("the public has reported it as not fixed"),
    "measures_closed": _l("every measure is done, long-term (长期坚持) or not applicable"),
    "follow_up_due": _l("its follow-up check (回头看) has fallen due"),
    "not_under_review": _l("it is not waiting for review (待审核)"),
    "forwarded_to_my_department": _l(
        "the report was forwarded to the user's department and is not handled yet"
    ),
    "freshly_imported": _l("it is being created by a notice import and has taken no step yet"),
}

#: What a transition asks for before it can be taken.
REQUIREMENT_LABELS = {
    "comment_required": _l("a comment giving the reason"),
    "evidence_required": _l("at least one piece of evidence (佐证材料)"),
    "completion_summary": _l("the completion summary (整改成效) filled in"),
    "later_deadline": _l("the proposed date still later than the item's deadline"),
}

#: What a transition does besides changing the state.
EFFECT_LABELS = {
    "record_approval": _l("records the user's approval"),
    "clear_approvals": _l("clears the approvals given so far"),
    "store_reply": _l("stores the reply with the feedback"),
    "store_forward": _l("stores the department it is forwarded to"),
    "store_handled": _l("records that the department has handled it"),
    "extend_deadline": _l("changes the item's deadline to the proposed date (a new version)"),
    "schedule_follow_up_check": _l(
        "schedules its follow-up check (回头看) for the inspection's interval later"
    ),
    "begin_follow_up_check": _l("takes the scheduled follow-up check (回头看) off the calendar"),
}


def _chinese() -> bool:
    return str(get_locale()).startswith("zh")


def title_of(thing) -> str:
    """A definition's title (workflow, state, transition, worklist) in the user's language."""
    return thing.title_zh if _chinese() else thing.title_en


def state_title(workflow_id: str, state_id: str) -> str:
    """The state's name; a stored value the workflow does not know is shown as "?"."""
    try:
        return title_of(WORKFLOWS[workflow_id].state(state_id))
    except KeyError:
        return "?"


def transition_title(transition) -> str:
    return title_of(transition)


def action_title(workflow_id: str, transition_id: str) -> str:
    try:
        return title_of(WORKFLOWS[workflow_id].transition(transition_id))
    except KeyError:
        return transition_id


def role_label(role: str) -> str:
    return str(ROLE_LABELS.get(role, role))


def listed(labels, clauses: bool = False, alternatives: bool = False) -> str:
    """Several names as one phrase: 甲、乙 / "a, b".

    clauses: 甲；乙 / "a; b"; alternatives: 甲或乙 / "a or b".
    """
    if clauses:
        separator = "；" if _chinese() else "; "
    elif alternatives:
        separator = "或" if _chinese() else " or "
    else:
        separator = "、" if _chinese() else ", "
    return separator.join(str(label) for label in labels)


def roles_text(roles, alternatives: bool = False) -> str:
    """Roles as one phrase in the user's language, in the vocabulary's order ("" for none)."""
    order = list(ROLE_LABELS)
    ranked = sorted(roles, key=lambda r: (order.index(r) if r in order else len(order), r))
    return listed((role_label(r) for r in ranked), alternatives=alternatives)


def permission_label(permission: str) -> str:
    return str(PERMISSION_LABELS.get(permission, permission))


def condition_label(condition: str) -> str:
    return str(CONDITION_LABELS.get(condition, condition))


def requirement_label(requirement: str) -> str:
    return str(REQUIREMENT_LABELS.get(requirement, requirement))


def effect_label(effect: str) -> str:
    return str(EFFECT_LABELS.get(effect, effect))


def transition_needs(transition) -> list[str]:
    """What the user must supply before taking `transition`, in the user's language."""
    needs = [
        *(["comment_required"] if transition.comment_required else []),
        *(["evidence_required"] if transition.evidence_required else []),
        *transition.requirements,
    ]
    return [requirement_label(n) for n in needs]


def person_labels(people) -> dict[int, str]:
    """What a drop-down shows for each person: the display name, which carries the title.

    Only people who share a display name get more, their department (or, lacking one, their
    login name), so that the office can still tell them apart.
    """
    people = list(people)

    def department(person) -> str | None:
        found = getattr(person, "department", None)
        return found.name if found is not None else None

    names = Counter(p.display_name for p in people)
    named_by_department = Counter((p.display_name, department(p)) for p in people)
    labels = {}
    for person in people:
        label, where = person.display_name, department(person)
        if names[label] > 1:
            unique = where is not None and named_by_department[(label, where)] == 1
            label = f"{label}（{where if unique else person.login}）"
        labels[person.id] = label
    return labels


def register_titles(app: Flask) -> None:
    app.jinja_env.globals.update(
        state_title=state_title,
        transition_title=transition_title,
        action_title=action_title,
        role_label=role_label,
        roles_text=roles_text,
        listed=listed,
        permission_label=permission_label,
        condition_label=condition_label,
        requirement_label=requirement_label,
        effect_label=effect_label,
        transition_needs=transition_needs,
        title_of=title_of,
    )
