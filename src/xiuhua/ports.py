"""The application's unit of work: every subject's at once, for the entry points and the demo."""

from __future__ import annotations

from typing import Protocol

from xiuhua.cases.ports import CaseReadsUnitOfWork, HistoryImportUnitOfWork, RatingsUnitOfWork
from xiuhua.evaluation.ports import EvaluationStore, EvaluationUnitOfWork
from xiuhua.geo.ports import Components, GeoUnitOfWork
from xiuhua.org.ports import OrgUnitOfWork
from xiuhua.sensing.ports import SensingUnitOfWork
from xiuhua.video.ports import VideoUnitOfWork


class ApplicationUnitOfWork(
    OrgUnitOfWork,
    GeoUnitOfWork,
    EvaluationUnitOfWork,
    SensingUnitOfWork,
    VideoUnitOfWork,
    HistoryImportUnitOfWork,
    RatingsUnitOfWork,
    CaseReadsUnitOfWork,
    Protocol,
):
    """What the composition root hands the entry points, the read side's connection included (SqlUnitOfWork
    satisfies it structurally)."""

    @property
    def components(self) -> Components: ...
    @property
    def evaluation(self) -> EvaluationStore: ...
