"""延期申请 workflow: the item's staff asks for a later deadline; the responsible leader, then
the office, decide. The office's approval changes the item's deadline (the `extend_deadline`
effect, applied by the portal through the item's edit operation)."""

from workflows.definition import Guard, State, Transition, Workflow, Worklist, roles

#: Who sees a request: the item's global viewers, its staff and leader, and who filed it.
VIEWERS = roles("office", "leader", "auditor", "Editor", "ResponsibleLeader", "Requester")
#: Who decides at each step: the item's responsible leader first, then the office.
LEADER_STEP = roles("ResponsibleLeader")
OFFICE_STEP = roles("office")
#: States in which a request is still open (the item can have one at a time).
OPEN = ("requested", "leader_approved")


def _state(id, zh, en, *, decide=frozenset(), withdraw=frozenset()):
    return State(id, zh, en, {"view": VIEWERS, "decide": decide, "withdraw_request": withdraw})


EXTENSION = Workflow(
    id="extension",
    title_zh="延期申请",
    title_en="Deadline extension",
    state_attribute="extension_state",
    initial="requested",
    states=(
        _state(
            "requested",
            "待责任领导审批",
            "Awaiting the responsible leader",
            decide=LEADER_STEP,
            withdraw=roles("Requester"),
        ),
        _state(
            "leader_approved",
            "待巡察办审批",
            "Awaiting the office",
            decide=OFFICE_STEP,
            withdraw=roles("Requester"),
        ),
        _state("approved", "已批准延期", "Approved"),
        _state("rejected", "未批准", "Rejected"),
        _state("withdrawn", "已撤回", "Withdrawn"),
    ),
    transitions=(
        Transition(
            "leader_approve",
            "责任领导同意",
            "Approve as responsible leader",
            ("requested",),
            "leader_approved",
            Guard(permissions=("decide",)),
            requirements=("later_deadline",),
        ),
        Transition(
            "office_approve",
            "巡察办批准延期",
            "Approve the extension",
            ("leader_approved",),
            "approved",
            Guard(permissions=("decide",)),
            requirements=("later_deadline",),
            effects=("extend_deadline",),
        ),
        Transition(
            "reject",
            "不予延期",
            "Reject",
            OPEN,
            "rejected",
            Guard(permissions=("decide",)),
            comment_required=True,
        ),
        Transition(
            "withdraw",
            "撤回申请",
            "Withdraw the request",
            OPEN,
            "withdrawn",
            Guard(permissions=("withdraw_request",)),
        ),
    ),
    worklists=(
        Worklist(
            "extensions_to_decide",
            "待我审批的延期申请",
            "Extension requests awaiting my decision",
            OPEN,
            Guard(permissions=("decide",)),
        ),
    ),
)
