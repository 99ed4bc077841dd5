"""Row-by-row validation shared by every table import: collect every error, then write all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from xiuhua.kernel.errors import DomainError, InvalidInputError
from xiuhua.platform.tabular import Row

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"第 {self.row} 行 [{self.code}] {self.message}"


@dataclass
class ImportReport:
    """What an import did: rows written, and the rows it skipped (only with skip_invalid)."""

    written: int = 0
    skipped: list[RowError] = field(default_factory=list)


class ImportRejectedError(InvalidInputError):
    """The file has invalid rows; nothing was written."""

    def __init__(self, errors: list[RowError]) -> None:
        lines = "\n".join(str(e) for e in errors[:50])
        more = f"\n…另有 {len(errors) - 50} 处错误" if len(errors) > 50 else ""
        super().__init__(
            "import.rejected",
            f"导入被拒绝，共 {len(errors)} 处错误，未写入任何数据：\n{lines}{more}",
            errors=[{"row": e.row, "code": e.code, "message": e.message} for e in errors],
        )
        self.errors = errors


def check_columns(rows: Sequence[Row], *required: str | tuple[str, ...]) -> None:
    """Reject a table missing a column; a tuple means any one of those columns will do."""
    present = set(rows[0].values) if rows else set()
    missing = [
        "/".join(c) if isinstance(c, tuple) else c
        for c in required
        if not (present & set(c) if isinstance(c, tuple) else c in present)
    ]
    if rows and missing:
        raise InvalidInputError("table.missing_columns", f"表格缺少列：{'、'.join(missing)}", missing=missing)


def parse_rows(rows: Iterable[Row], parse: Callable[[Row], T]) -> tuple[list[tuple[Row, T]], list[RowError]]:
    """Apply ``parse`` to every row, turning DomainErrors into row-numbered errors."""
    parsed: list[tuple[Row, T]] = []
    errors: list[RowError] = []
    for row in rows:
        try:
            parsed.append((row, parse(row)))
        except DomainError as exc:
            errors.append(RowError(row.number, exc.code, exc.message))
    return parsed, errors


def settle(errors: list[RowError], skip_invalid: bool) -> list[RowError]:
    """Raise unless the caller chose to skip invalid rows; return the rows skipped."""
    errors.sort(key=lambda e: e.row)
    if errors and not skip_invalid:
        raise ImportRejectedError(errors)
    return errors


def drop_orphans(
    items: list[T], known: set[str], key: Callable[[T], str], parent: Callable[[T], str | None]
) -> list[T]:
    """Drop items whose parent is neither stored nor kept (a skipped row takes its subtree with it)."""
    while True:
        present = known | {key(i) for i in items}
        kept = [i for i in items if not parent(i) or parent(i) in present]
        if len(kept) == len(items):
            return kept
        items = kept
