"""Structured input errors and warnings raised by the numerical core.

They carry the field name and the element index instead of a JSON Pointer, so the core stays free of any
transport concern; the HTTP layer turns ``field`` + ``index`` into a pointer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Issue:
    """One thing wrong with one input (or one element of it)."""

    code: str
    field: str
    message: str
    index: tuple[int, ...] | None = None
    expected: Any = None
    received: Any = None


@dataclass(frozen=True)
class LossWarning:
    """Something suspicious that did not stop the computation."""

    code: str
    message: str
    field: str | None = None
    index: tuple[int, ...] | None = None


@dataclass
class LossInputError(ValueError):
    """The inputs cannot give a well-defined loss.

    ``issues`` holds at most the requested number of items; ``count`` is how many there really were.
    """

    code: str
    message: str
    issues: list[Issue] = field(default_factory=list)
    count: int = 1
    hint: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def issues_from_mask(
    mask: np.ndarray,
    *,
    code: str,
    field: str,
    describe: Callable[[tuple[int, ...]], tuple[str, Any]],
    limit: int,
    index_of: Callable[[tuple[int, ...]], tuple[int, ...]] | None = None,
    hint: str | None = None,
) -> LossInputError:
    """An error for every ``True`` of ``mask``, listing the first ``limit`` (``count`` says how many).

    ``describe(position)`` gives the message and the offending value; ``index_of`` maps a position of
    ``mask`` to an index of the array the caller passed, when the two differ.
    """
    positions = np.argwhere(mask)
    issues = []
    for raw in positions[:limit]:
        position = tuple(int(i) for i in raw)
        message, received = describe(position)
        index = index_of(position) if index_of is not None else position
        issues.append(Issue(code=code, field=field, message=message, index=index, received=received))
    return LossInputError(code, issues[0].message, issues=issues, count=len(positions), hint=hint)
