"""Verify every case's hash-chained log: an edited, inserted or removed row breaks its chain."""

from __future__ import annotations

from dataclasses import dataclass, field

from xiuhua.cases.domain.case import GENESIS, LogEntry
from xiuhua.cases.ports import CasesUnitOfWork
from xiuhua.kernel.ports import Progress, no_progress


@dataclass(frozen=True, slots=True)
class BrokenChain:
    case_no: str
    seq: int
    problem: str


@dataclass
class AuditReport:
    cases: int = 0
    rows: int = 0
    broken: list[BrokenChain] = field(default_factory=list)


def verify_log(uow: CasesUnitOfWork, progress: Progress = no_progress) -> AuditReport:
    report = AuditReport()
    with uow:
        total = sum(uow.cases.count_by("state").values())
        for case_no, head, last_seq, rows in uow.cases.chains():
            report.cases += 1
            report.rows += len(rows)
            if problem := _check_chain(case_no, head, last_seq, rows):
                report.broken.append(problem)
            if report.cases % 500 == 0:
                progress("校验案件日志", report.cases, total)
    progress("校验案件日志", report.cases, max(total, report.cases))
    report.broken.sort(key=lambda b: b.case_no)
    return report


def _check_chain(case_no: str, head: str, last_seq: int, rows: list[LogEntry]) -> BrokenChain | None:
    prev = GENESIS
    for expected_seq, entry in enumerate(rows, start=1):
        if entry.seq != expected_seq:
            return BrokenChain(case_no, expected_seq, f"缺少第 {expected_seq} 条记录")
        if entry.prev_hash != prev:
            return BrokenChain(case_no, entry.seq, "前序哈希不符（记录被删除或替换）")
        if entry.computed_hash(case_no) != entry.hash:
            return BrokenChain(case_no, entry.seq, "记录内容与哈希不符（记录被修改）")
        prev = entry.hash
    if len(rows) != last_seq or prev != head:
        return BrokenChain(case_no, len(rows) + 1, f"日志应有 {last_seq} 条，实有 {len(rows)} 条（末尾记录被删除）")
    return None
