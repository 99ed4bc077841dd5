"""The case facts an evaluation is computed from, column by column."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from numpy.typing import NDArray


@dataclass
class CaseFacts:
    """Per-case facts as of a period's end, one array per column, for every case active in the period."""

    columns: dict[str, NDArray[Any]]

    def __len__(self) -> int:
        return len(self.columns["case_no"])

    def __getitem__(self, name: str) -> NDArray[Any]:
        return self.columns[name]
