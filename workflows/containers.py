"""Permissions of the containers (inspections and categories), which have no workflow.

Like a state's permission map, but fixed: permission -> roles that hold it.
"""

from workflows.definition import roles

CONTAINER_PERMISSIONS = {
    "view": roles("office", "leader", "auditor", "Reader", "Editor", "Reviewer"),
    "edit": roles("office"),
    "add_item": roles("office"),
    "share": roles("office", "Editor"),
    "share_any": roles("office"),
}
