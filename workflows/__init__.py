"""Declarative workflow definitions and the engine that runs them.

Pure Python: this package never imports Flask; `portal` imports it, never the reverse.
The definitions and the engine arrive with the workflow-engine issue.
"""
