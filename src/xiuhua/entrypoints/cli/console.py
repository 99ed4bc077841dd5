"""What every command shares: error lines, progress bars, the runtime, and parsing of times."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from xiuhua.bootstrap import Runtime, bootstrap
from xiuhua.kernel.errors import DomainError, InvalidInputError, Kind
from xiuhua.org.domain.calendar import Pause
from xiuhua.platform.importing import ImportReport
from xiuhua.platform.tabular import write_table

SkipInvalid = Annotated[bool, typer.Option(help="跳过无效行并列出，其余照常导入（默认整表拒绝）")]
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Turn a DomainError into one error line on stderr: exit 2 for bad input, 1 otherwise."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DomainError as exc:
            print(f"错误 [{exc.code}] {exc.message}", file=sys.stderr)
            raise typer.Exit(2 if exc.kind is Kind.INVALID else 1) from None

    return wrapper  # type: ignore[return-value]


@contextmanager
def progress_bar() -> Iterator[Callable[[str, int, int], None]]:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task("准备", total=1)

        def report(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=total)

        yield report


def runtime() -> Runtime:
    return bootstrap()


def parse_moment(text: str, what: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInputError(
            "time.unparseable", f"{what}“{text}”不是 ISO 8601 时间，如 2026-09-30T16:00+08:00"
        ) from None
    if moment.tzinfo is None:
        raise InvalidInputError("time.naive", f"{what}“{text}”缺少时区，请写明偏移，如 +08:00")
    return moment


def parse_pause(text: str) -> Pause:
    start, sep, end = text.partition("/")
    if not sep:
        raise InvalidInputError("time.bad_pause", f"暂停区间“{text}”应写作 开始/结束（ISO 8601）")
    pause = Pause(parse_moment(start, "暂停开始"), parse_moment(end, "暂停结束"))
    if pause.end <= pause.start:
        raise InvalidInputError("time.bad_pause", f"暂停区间“{text}”的结束早于开始")
    return pause


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInputError("time.unparseable", f"日期“{text}”无效，应为 YYYY-MM-DD") from None


def read_json_file(path: Path, code: str, what: str) -> Any:
    """A JSON document from a file; an unreadable file or bad JSON is InvalidInputError ``code``."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(code, f"无法读取{what} {path}：{exc}") from None


def export_table(path: Path, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Write rows as CSV or XLSX (by the file's extension) and say how many."""
    count = write_table(path, columns, rows)
    out.print(f"已导出 {count} 条到 {path}")


def print_report(report: ImportReport, what: str) -> None:
    out.print(f"已导入{what} {report.written} 条")
    if report.skipped:
        err.print(f"跳过 {len(report.skipped)} 行：", markup=False)
        for error in report.skipped:
            err.print(f"  {error}", markup=False, highlight=False)
