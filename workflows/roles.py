"""The role vocabulary that permission maps and guards speak.

- Global roles (held by an account everywhere): admin, office, leader, staff, auditor.
- Local roles (granted on an inspection, category or item, inherited downward unless blocked,
  as on Plone's Sharing tab): Reader, Editor, Reviewer.
- Roles that follow from an object's own fields: the item's responsible staff is an Editor; its
  responsible leader is a Reviewer and ResponsibleLeader; the inspection's party secretary
  (党组书记) is a Reviewer and PartySecretary on every item of that inspection; who filed a
  deadline extension request (延期申请) is its Requester.
- Anonymous (everyone, signed in or not) and Authenticated (every signed-in account).
"""

GLOBAL_ROLES = ("admin", "office", "leader", "staff", "auditor")
LOCAL_ROLES = ("Reader", "Editor", "Reviewer")
DERIVED_ROLES = ("ResponsibleLeader", "PartySecretary", "Requester")
PSEUDO_ROLES = ("Anonymous", "Authenticated")
ALL_ROLES = frozenset(GLOBAL_ROLES + LOCAL_ROLES + DERIVED_ROLES + PSEUDO_ROLES)
