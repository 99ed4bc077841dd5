"""Use cases of the closed loop: report a problem, then move the case one action at a time."""

from __future__ import annotations

from datetime import datetime

from xiuhua.cases.domain import idempotency
from xiuhua.cases.domain.case import Case, Params, PhotoStage
from xiuhua.cases.domain.commands import Acted, ActOnCase, ReportCase, Reported
from xiuhua.cases.domain.scope import CaseScope
from xiuhua.cases.domain.workflow import Action, Source, State, reporting_sources
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.cases.services.access import access_case, check_reporter
from xiuhua.cases.services.policy import CasePolicy
from xiuhua.kernel.actor import Actor
from xiuhua.kernel.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from xiuhua.kernel.evidence import StoredFile
from xiuhua.kernel.ports import Clock
from xiuhua.org.domain.calendar import TimeLimit
from xiuhua.org.domain.model import OrgKind

"""The commands and their results live in domain/commands.py; they are named here too, beside their handlers."""

PHOTO_STAGE = {
    Action.VERIFY: PhotoStage.VERIFY,
    Action.REFUTE: PhotoStage.VERIFY,
    Action.FEEDBACK: PhotoStage.AFTER,
    Action.CHECK_PASS: PhotoStage.CHECK,
    Action.CHECK_FAIL: PhotoStage.CHECK,
}


def default_source(actor: Actor) -> Source:
    """The source of a report whose caller names none: the first its role may use."""
    return next(iter(reporting_sources(actor.roles)), Source.SUPERVISOR)


def report_case(cmd: ReportCase, uow: CasesUnitOfWork, clock: Clock, policy: CasePolicy) -> Reported:
    """Open a case (idempotent by key); suggest duplicates; link a repeat of a recently closed case."""
    if not cmd.description.strip():
        raise InvalidInputError("case.no_description", "请描述问题")
    check_reporter(cmd.actor, cmd.source, cmd.location)
    key, digest = cmd.stored_key() or (None, None)
    now = clock.now()
    with uow:
        if key and (existing := _retried(uow, key, digest)):
            return existing
        if not uow.catalog.has_class(cmd.kind, cmd.class_code):
            raise InvalidInputError(
                "case.unknown_class", f"未知的{cmd.kind.label}类别“{cmd.class_code}”", code=cmd.class_code
            )
        loc = cmd.location
        # Searched before the day's number is drawn: drawing it locks the counter row until commit.
        since = now - max(policy.repeat_window, policy.duplicate_window)
        nearby = uow.cases.same_class_near(
            cmd.kind, cmd.class_code, loc.lon, loc.lat, max(policy.repeat_radius_m, policy.duplicate_radius_m), since
        )
        local_day = policy.timing.calendar.local(int(now.timestamp())).date()
        case = Case(
            case_no=uow.cases.next_case_no(local_day),
            source=cmd.source,
            kind=cmd.kind,
            class_code=cmd.class_code,
            location=loc,
            description=cmd.description.strip(),
            urgency=cmd.urgency,
            reported_at=now,
            reporter=cmd.reporter or cmd.actor.username,
            reporter_phone=cmd.reporter_phone,
            component_id=cmd.component_id,
            idempotency_key=key,
            request_digest=digest,
        )
        case.open(cmd.actor, policy.timing, tuple(p.sha256 for p in cmd.photos))
        case.repeat_of = next(
            (
                no
                for no, metres, state, _, closed_at in nearby
                if state is State.CLOSED
                and metres <= policy.repeat_radius_m
                and closed_at is not None
                and closed_at >= now - policy.repeat_window
            ),
            None,
        )
        open_nearby = [
            (no, metres)
            for no, metres, state, reported_at, _ in nearby
            if not state.final and metres <= policy.duplicate_radius_m and reported_at >= now - policy.duplicate_window
        ]
        seen = uow.cases.covered([no for no, _ in open_nearby], CaseScope.of(cmd.actor))  # the one scope rule
        duplicates = [(no, metres) for no, metres in open_nearby if no in seen]
        if cmd.source is Source.SELF_DISPOSAL:
            case.apply(
                Action.SELF_DISPOSE, cmd.actor, now, policy.timing, Params(attachments=case.new_log[0].attachments)
            )
        try:
            uow.cases.add(case)
        except ConflictError:  # the same report, retried at the same moment, won the race
            uow.rollback()
            if key is None or (existing := _retried(uow, key, digest)) is None:
                raise
            return existing
        _record_photos(uow, case, PhotoStage.REPORT, cmd.photos, now)
        uow.commit()
    return Reported(case.case_no, True, duplicates, case.repeat_of, len(open_nearby))


def _retried(uow: CasesUnitOfWork, key: str, digest: str | None) -> Reported | None:
    """The case a key already names; raises IdempotencyKeyReusedError when it named another report."""
    case_no = idempotency.retry_of(uow.cases.by_idempotency_key(key), digest)
    return None if case_no is None else Reported(case_no, created=False)


def act_on_case(cmd: ActOnCase, uow: CasesUnitOfWork, clock: Clock, policy: CasePolicy) -> Acted:
    """Apply one workflow action within the actor's scope; one transaction, all or nothing."""
    now = clock.now()
    with uow:
        case = access_case(uow, cmd.actor, cmd.case_no)
        params = Params(
            reason=cmd.reason,
            handler=cmd.handler,
            duplicate_of=cmd.duplicate_of,
            attachments=tuple(p.sha256 for p in cmd.photos),
            extension=TimeLimit.parse(cmd.extension) if cmd.extension else None,
        )
        if cmd.action is Action.FILE and cmd.standard_id is not None:
            standard = uow.catalog.standard(cmd.standard_id)
            if standard is None or (standard.kind, standard.code) != (case.kind, case.class_code):
                raise InvalidInputError(
                    "case.bad_standard",
                    f"立案条件 {cmd.standard_id} 不属于类别 {case.class_code}",
                    case_no=case.case_no,
                )
            params.standard_id, params.standard_limit = standard.id, standard.limit_for(case.location.area_class)
        if cmd.action is Action.DISPATCH:
            params.suggested_department = suggestion = suggest_department(uow, case, policy)
            params.department_code = cmd.department_code or suggestion
            if params.department_code:
                params.outside_jurisdiction = _outside_jurisdiction(uow, case, cmd, params.department_code, suggestion)
        if cmd.duplicate_of and uow.cases.get(cmd.duplicate_of) is None:
            raise NotFoundError("case.not_found", f"主案件 {cmd.duplicate_of} 不存在", case_no=cmd.duplicate_of)
        entry = case.apply(cmd.action, cmd.actor, now, policy.timing, params)
        uow.cases.save(case)
        _record_photos(uow, case, PHOTO_STAGE.get(cmd.action, PhotoStage.BEFORE), cmd.photos, now)
        uow.commit()
    return Acted(case.case_no, case.state, case.due_at, entry.seq, case.department_code)


def _outside_jurisdiction(uow: CasesUnitOfWork, case: Case, cmd: ActOnCase, code: str, suggestion: str | None) -> bool:
    """Whether a dispatch goes beyond the department's jurisdiction, which only a city-wide account may
    order, with its reason in the log; raises NotFoundError or ForbiddenError otherwise."""
    if uow.organizations.kind_of(code) is not OrgKind.DEPARTMENT:
        raise NotFoundError("case.unknown_department", f"处置部门 {code} 不存在")
    if code == suggestion:  # the city's own routing rules (or the component's department)
        return False
    department = uow.organizations.get(code)
    assert department is not None
    if department.serves(case.location.region_codes):
        return False
    city_wide = cmd.actor.scope_region_code == case.location.city_code and not cmd.actor.scope_organization_code
    if city_wide and cmd.reason.strip():
        return True
    raise ForbiddenError(
        "case.outside_jurisdiction",
        f"{department.name}的管辖范围不含本案所在地（{case.location.district_code}），只能派遣给市级部门或本区的部门"
        + ("；如确需越区派遣，请填写原因" if city_wide else "；越区派遣须由市级派遣员填写原因后进行"),
        case_no=case.case_no,
        department_code=code,
    )


def suggest_department(uow: CasesUnitOfWork, case: Case, policy: CasePolicy) -> str | None:
    """The department to dispatch to: a registered component's own department first, else the routing rules."""
    if case.component_id and (component := uow.components.get(case.component_id)) is not None:
        return component.department_code
    return policy.router.suggest(case.kind, case.class_code, case.location.region_codes)


def _record_photos(
    uow: CasesUnitOfWork, case: Case, stage: PhotoStage, photos: tuple[StoredFile, ...], now: datetime
) -> None:
    assert case.id is not None
    for photo in {p.sha256: p for p in photos}.values():
        uow.cases.add_photo(case.id, stage.value, photo.sha256, photo.content_type, photo.size, now)
