"""What every feature stands on: configuration, extensions, the database's transaction modes,
the one exception tree and its handler, the policy and its SQL filters, named conditions, the
declared worklists, the one transition pipeline, loading, titles and downloads.

Core imports no feature: content types tell it what it needs through their declarations
(portal.core.content) and the hooks and conditions their features register.
"""
