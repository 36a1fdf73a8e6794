"""The item workflows on stored items: approvals, conditions, transition and worklist pages.

The policy, the SQL filters, the worklists and the transition pipeline they use are generic
and live in portal.core; importing this package registers the item workflows' conditions and
hooks with them.
"""

from portal.workflow import items as _items  # noqa: F401  (registers conditions and hooks)
