"""撤销 workflow: a wrongly created inspection or item is withdrawn, never deleted, and restored.

A withdrawn object suspends its other workflows: it leaves every list, count and the public
side, the office and auditors can still read it, and the office can restore it as it was.
"""

from workflows.definition import Guard, State, Transition, Workflow, roles

#: Who may withdraw and restore.
WITHDRAWERS = roles("office")

LIFECYCLE = Workflow(
    id="lifecycle",
    title_zh="撤销与恢复",
    title_en="Withdrawal",
    state_attribute="lifecycle_state",
    initial="active",
    states=(
        State("active", "正常", "Active", {"withdraw": WITHDRAWERS}),
        State(
            "withdrawn",
            "已撤销",
            "Withdrawn",
            {"view": roles("office", "auditor"), "withdraw": WITHDRAWERS},
            suspends=True,
        ),
    ),
    transitions=(
        Transition(
            "withdraw",
            "撤销",
            "Withdraw",
            ("active",),
            "withdrawn",
            Guard(permissions=("withdraw",)),
            comment_required=True,
        ),
        Transition(
            "restore",
            "恢复",
            "Restore",
            ("withdrawn",),
            "active",
            Guard(permissions=("withdraw",)),
            comment_required=True,
        ),
    ),
)
