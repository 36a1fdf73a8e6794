"""Rectification notices (整改情况通报): parsing published texts into documents.

Importing this package registers the `freshly_imported` condition of the import transitions.
"""

from portal.notices import workflow as _workflow  # noqa: F401  (registers a condition)
