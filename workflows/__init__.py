"""Declarative workflow definitions and the engine that runs them (pure Python, no Flask).

`portal` imports this package, never the reverse.
"""

from workflows.definition import (
    Guard,
    State,
    Transition,
    Workflow,
    WorkflowDefinitionError,
    Worklist,
)
from workflows.engine import (
    Step,
    TransitionNotAllowed,
    UnknownTransition,
    WorkflowEngine,
    WorkflowError,
)
from workflows.extension import EXTENSION
from workflows.lifecycle import LIFECYCLE
from workflows.moderation import MODERATION
from workflows.publication import PUBLICATION
from workflows.rectification import RECTIFICATION

WORKFLOWS = {wf.id: wf for wf in (RECTIFICATION, PUBLICATION, MODERATION, LIFECYCLE, EXTENSION)}
ENGINES = {wf_id: WorkflowEngine(wf) for wf_id, wf in WORKFLOWS.items()}

__all__ = [
    "ENGINES",
    "EXTENSION",
    "LIFECYCLE",
    "MODERATION",
    "PUBLICATION",
    "RECTIFICATION",
    "WORKFLOWS",
    "Guard",
    "State",
    "Step",
    "Transition",
    "TransitionNotAllowed",
    "UnknownTransition",
    "Workflow",
    "WorkflowDefinitionError",
    "WorkflowEngine",
    "WorkflowError",
    "Worklist",
]
