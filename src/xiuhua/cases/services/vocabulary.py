"""The workflow's vocabulary for consoles: labels and flags read from the workflow table, so no page keeps a copy."""

from __future__ import annotations

from dataclasses import dataclass

from xiuhua.cases.domain.workflow import TRANSITIONS, Action, Source, State, Step
from xiuhua.cases.services.lifecycle import PHOTO_STAGE
from xiuhua.kernel.actor import Role


@dataclass(frozen=True, slots=True)
class WorkflowVocabulary:
    """What a console needs from the workflow table to label cases and build action forms."""

    states: dict[str, str]
    """Every state's label, in the table's order."""
    final_states: list[str]
    actions: dict[str, str]
    needs_reason: list[str]
    """Actions the workflow refuses without a reason (in some state at least)."""
    takes_photos: list[str]
    """Actions whose photos are kept as evidence of a stage (verification, disposal, check)."""
    steps: dict[str, str]
    sources: dict[str, str]
    roles: dict[str, str]
    """The roles of accounts (not the system's)."""


def workflow_vocabulary() -> WorkflowVocabulary:
    """The labels and flags of states, actions, steps, sources and roles, read from the workflow table."""
    return WorkflowVocabulary(
        states={s.value: s.label for s in State},
        final_states=[s.value for s in State if s.final],
        actions={a.value: a.label for a in Action},
        needs_reason=sorted({tr.action.value for tr in TRANSITIONS if tr.reason_required}),
        takes_photos=sorted(a.value for a in PHOTO_STAGE),
        steps={s.value: s.label for s in Step},
        sources={s.value: s.label for s in Source},
        roles={r.value: r.label for r in Role if r is not Role.SYSTEM},
    )
