"""The REST API (`/api`): personal access tokens, plone.restapi's conventions, OpenAPI 3.1."""
