"""意见建议 moderation workflow: public feedback waits for the office before it is shown.

The office may forward (转办) a report to a responsible department; that department's staff
find it in their worklist, read it with its item and mark it handled. Replying and publishing
stay with the office.
"""

from workflows.definition import Guard, State, Transition, Workflow, Worklist, roles

STAFF_SIDE = roles("office", "auditor")
MODERATORS = roles("office")


def _state(id, zh, en, *, public=False):
    view = STAFF_SIDE | (roles("Anonymous") if public else frozenset())
    return State(id, zh, en, {"view": view, "moderate": MODERATORS})


MODERATION = Workflow(
    id="moderation",
    title_zh="意见建议审核",
    title_en="Feedback moderation",
    state_attribute="moderation_state",
    initial="pending",
    states=(
        _state("pending", "待审核", "Pending"),
        _state("published", "已公开", "Published", public=True),
        _state("rejected", "不予公开", "Rejected"),
        _state("spam", "垃圾信息", "Spam"),
    ),
    transitions=(
        Transition("publish", "公开", "Publish", ("pending",), "published", Guard(permissions=("moderate",))),
        Transition(
            "reject",
            "不予公开",
            "Reject",
            ("pending",),
            "rejected",
            Guard(permissions=("moderate",)),
            comment_required=True,
        ),
        Transition(
            "mark_spam",
            "标记为垃圾信息",
            "Mark as spam",
            ("pending",),
            "spam",
            Guard(permissions=("moderate",)),
        ),
        Transition(
            "reply",
            "答复",
            "Reply",
            ("pending", "published"),
            None,
            Guard(permissions=("moderate",)),
            comment_required=True,
            effects=("store_reply",),
        ),
        Transition(
            "forward",
            "转办",
            "Forward to a department",
            ("pending", "published"),
            None,
            Guard(permissions=("moderate",)),
            effects=("store_forward",),
        ),
        Transition(
            "mark_handled",
            "办理完毕",
            "Mark as handled",
            ("pending", "published"),
            None,
            Guard(conditions=("forwarded_to_my_department",)),
            effects=("store_handled",),
        ),
    ),
    worklists=(
        Worklist(
            "moderation_queue",
            "待审核意见",
            "Feedback to moderate",
            ("pending",),
            Guard(permissions=("moderate",)),
        ),
        Worklist(
            "forwarded_feedback",
            "转办给本部门的意见",
            "Feedback forwarded to my department",
            ("pending", "published"),
            Guard(conditions=("forwarded_to_my_department",)),
        ),
    ),
)
