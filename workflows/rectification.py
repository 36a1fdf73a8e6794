"""整改事项 workflow: assigned → in progress → pending review → completed ⇄ follow-up check.

Importing a notice (portal.notices) creates every item in `assigned` and then takes, through
the engine, the step that the notice's own status for it asks for (issue 17):

==============================================  ==================  =========================
what the notice states (parser `status`)        transition          state
==============================================  ==================  =========================
completed (已完成, 已整改到位, 整改完成 …)         import_completed    completed 已完成
partial (阶段性完成, 基本完成, 部分完成)           import_in_progress  in_progress 整改中
in_progress (正在整改, 整改中, 持续整改, 长期坚持)  import_in_progress  in_progress 整改中
planned (未完成, 持续推进, a planned date) or none  (none)              assigned 已交办
==============================================  ==================  =========================

`import_completed` marks the item's measures done first (its guard asks `measures_closed`, so
completed still means every measure closed) and takes the notice's 整改情况 text as the
completion summary; like `complete`, it schedules the follow-up check (回头看). The office may
change each item's resulting state in the import preview. Both transitions are guarded by the
office role and `freshly_imported` (the item is being created by the import operation running
now, and has taken no step yet): outside an import nobody is offered them, so they can never be
used later to skip the review.
"""

from workflows.definition import Guard, State, Transition, Workflow, Worklist, roles

VIEWERS = roles("office", "leader", "auditor", "Reader", "Editor", "Reviewer")
WORKERS = roles("Editor", "ResponsibleLeader")
FOLLOW_UP = roles("office", "Reviewer")
# Who manages an item's Sharing tab: the office, its editors and its responsible leader
# (each can grant only the roles they hold; see portal.sharing).
SHARERS = roles("office", "Editor", "ResponsibleLeader")
#: Who may remove anyone's grant and block inherited grants: the office only (the others may
#: remove only the grants they made themselves).
SHARING_MANAGERS = roles("office")
#: Who may ask for a later deadline (延期申请) while the item is worked on: its staff (主办人).
EXTENSION_REQUESTERS = roles("Editor")
#: Who assigns an item: its category, people, department, deadline and the amount to recover
#: (the fields `RectificationItem.__field_permissions__` puts under "assign").
ASSIGNERS = roles("office")
#: Who reports progress and money recovered while the item is worked on ("report" fields).
REPORTERS = roles("office", "Editor")
#: Who imports notices, and so may create an item in the state its notice states.
IMPORTERS = ("office",)
#: The state an imported item starts in, by the status its notice states (see the module's doc).
IMPORT_STATES = {"completed": "completed", "partial": "in_progress", "in_progress": "in_progress"}
#: The transition from `assigned` that creates an imported item in each of those states.
IMPORT_TRANSITIONS = {"in_progress": "import_in_progress", "completed": "import_completed"}
#: States in which an item is still open (not yet completed).
OPEN = ("assigned", "in_progress", "pending_review")
#: States in which an item is completed (every measure closed, approvals given).
CLOSED = ("completed", "follow_up")
#: States past submission: an item's measures are what its reviewers saw.
SUBMITTED = ("pending_review", *CLOSED)


def _state(
    id,
    zh,
    en,
    *,
    edit,
    work=frozenset(),
    review=frozenset(),
    follow_up=frozenset(),
    extend=frozenset(),
    report=None,
    share=SHARERS,
):
    return State(
        id,
        zh,
        en,
        {
            "view": VIEWERS,
            "edit": edit,
            "assign": ASSIGNERS,
            "report": edit if report is None else report,
            "work": work,
            "review": review,
            "follow_up": follow_up,
            "share": share,
            "share_any": SHARING_MANAGERS,
            "request_extension": extend,
        },
    )


#: Once submitted, sharing stays with the office and the responsible leader: the staff can no
#: longer change who reviews or reads what they submitted.
SUBMITTED_SHARERS = roles("office", "ResponsibleLeader")


RECTIFICATION = Workflow(
    id="rectification",
    title_zh="整改流程",
    title_en="Rectification",
    state_attribute="state",
    initial="assigned",
    states=(
        _state(
            "assigned",
            "已交办",
            "Assigned",
            edit=roles("office", "Editor"),
            work=WORKERS,
            extend=EXTENSION_REQUESTERS,
            report=REPORTERS,
        ),
        _state(
            "in_progress",
            "整改中",
            "In progress",
            edit=roles("office", "Editor"),
            work=WORKERS,
            extend=EXTENSION_REQUESTERS,
            report=REPORTERS,
        ),
        _state(
            "pending_review",
            "待审核",
            "Pending review",
            edit=roles("office"),
            review=roles("Reviewer"),
            share=SUBMITTED_SHARERS,
        ),
        _state(
            "completed",
            "已完成",
            "Completed",
            edit=roles("office"),
            follow_up=FOLLOW_UP,
            share=SUBMITTED_SHARERS,
        ),
        _state(
            "follow_up",
            "回头看",
            "Follow-up check",
            edit=roles("office"),
            follow_up=FOLLOW_UP,
            share=SUBMITTED_SHARERS,
        ),
    ),
    transitions=(
        Transition("start", "开始整改", "Start", ("assigned",), "in_progress", Guard(permissions=("work",))),
        # Only inside a notice import (see the module's doc): the notice states the item's status.
        Transition(
            "import_in_progress",
            "按通报导入为整改中",
            "Imported as in progress",
            ("assigned",),
            "in_progress",
            Guard(roles=IMPORTERS, conditions=("freshly_imported",)),
        ),
        Transition(
            "import_completed",
            "按通报导入为已完成",
            "Imported as completed",
            ("assigned",),
            "completed",
            Guard(roles=IMPORTERS, conditions=("freshly_imported", "measures_closed")),
            effects=("schedule_follow_up_check",),  # as `complete` does
        ),
        Transition(
            "submit",
            "提交审核",
            "Submit for review",
            ("in_progress",),
            "pending_review",
            # every measure done, or long-term (长期坚持) / not applicable with a reason
            Guard(permissions=("work",), conditions=("measures_closed",)),
            evidence_required=True,
            requirements=("completion_summary",),
        ),
        Transition(
            "approve",
            "审核同意",
            "Approve",
            ("pending_review",),
            None,
            # nobody approves an item they carry out as its responsible staff (separation of duties)
            Guard(
                permissions=("review",),
                roles=("leader",),
                conditions=("not_approved_by_actor", "not_responsible_staff"),
            ),
            effects=("record_approval",),
        ),
        Transition(
            "return",
            "退回",
            "Return",
            ("pending_review",),
            "in_progress",
            Guard(permissions=("review",), roles=("leader",)),
            comment_required=True,
            effects=("clear_approvals",),
        ),
        Transition(
            "complete",
            "完成",
            "Complete",
            ("pending_review",),
            "completed",
            Guard(conditions=("approval_policy_met",)),
            automatic=True,
            effects=("schedule_follow_up_check",),  # due follow_up_months later
        ),
        Transition(
            "schedule_follow_up",
            "安排回头看",
            "Schedule follow-up check",
            ("completed",),
            "follow_up",
            Guard(permissions=("follow_up",), roles=("office", "leader")),
            effects=("begin_follow_up_check",),
        ),
        # 回头看 on schedule: re-evaluated by the supervision pass (portal.core.transitions.settle),
        # which moves a completed item once its follow-up check has fallen due.
        Transition(
            "follow_up_on_schedule",
            "到期回头看",
            "Follow-up check due",
            ("completed",),
            "follow_up",
            Guard(conditions=("follow_up_due",)),
            automatic=True,
            effects=("begin_follow_up_check",),
        ),
        Transition(
            "confirm",
            "确认整改到位",
            "Confirm",
            ("follow_up",),
            "completed",
            Guard(permissions=("follow_up",), roles=("office", "leader")),
        ),
        Transition(
            "reopen",
            "问题反弹，重新整改",
            "Reopen",
            ("follow_up",),
            "in_progress",
            Guard(permissions=("follow_up",), roles=("office", "leader")),
            comment_required=True,
            effects=("clear_approvals",),
        ),
    ),
    # Worklist guards are evaluated like transition guards; their conditions are named checks
    # that the portal evaluates both in Python and as SQL (see portal.core.conditions).
    worklists=(
        Worklist(
            "awaiting_review",
            "待我审核",
            "Awaiting my review",
            ("pending_review",),
            Guard(
                permissions=("review",),
                roles=("leader",),
                conditions=("not_approved_by_actor", "not_responsible_staff"),
            ),
        ),
        Worklist(
            "my_items", "我的整改事项", "My items", ("assigned", "in_progress"), Guard(permissions=("work",))
        ),
        Worklist("overdue", "已逾期", "Overdue", OPEN, Guard(permissions=("view",), conditions=("overdue",))),
        Worklist(
            "due_soon",
            "7日内到期",
            "Due within 7 days",
            OPEN,
            Guard(permissions=("view",), conditions=("due_soon",)),
        ),
        Worklist(
            "not_fixed",
            "群众反映未改好",
            "Reported not fixed",
            ("completed",),
            Guard(permissions=("view",), roles=("office", "leader"), conditions=("reported_not_fixed",)),
        ),
        Worklist(
            "follow_up_checks",
            "回头看",
            "Follow-up checks",
            ("follow_up",),
            Guard(permissions=("follow_up",), roles=("office", "leader")),
        ),
    ),
)
