"""公开 workflow: an item is private until a leader publishes it to the public pages."""

from workflows.definition import Guard, State, Transition, Workflow, roles
from workflows.rectification import VIEWERS

PUBLICATION = Workflow(
    id="publication",
    title_zh="公开流程",
    title_en="Publication",
    state_attribute="publication_state",
    initial="private",
    states=(
        State(
            "private",
            "未公开",
            "Private",
            {"view": VIEWERS, "publish": roles("Reviewer", "ResponsibleLeader")},
        ),
        # Publishing exposes the public view (the public pages, public evidence, feedback) and
        # nothing internal: the item page, its versions and its other evidence keep `view`.
        State(
            "published",
            "已公开",
            "Published",
            {
                "view": VIEWERS,
                "view_public": roles("Anonymous"),
                "publish": roles("Reviewer", "ResponsibleLeader"),
            },
        ),
    ),
    transitions=(
        Transition(
            "publish",
            "公开",
            "Publish",
            ("private",),
            "published",
            # not while the item waits for review: the reviewer decides that first
            Guard(permissions=("publish",), roles=("leader",), conditions=("not_under_review",)),
        ),
        Transition(
            "retract",
            "撤回公开",
            "Retract",
            ("published",),
            "private",
            Guard(permissions=("publish",), roles=("leader",)),
            comment_required=True,
        ),
    ),
)
