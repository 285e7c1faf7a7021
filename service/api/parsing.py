"""The one way into a request body: ``parse(body, family)`` returns its options and decoded arrays.

Behind it, the strategies of :mod:`.fast_json` (simdjson into NumPy, runs of large arrays, Tensor data cut
out of the body) take what is plainly well-formed; everything else takes the general path, Pydantic on the
raw bytes, which also gives the precise problem. Both end in the same arrays, checked the same way.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..families import Family
from ..losses import LossInputError
from ..losses.metrics import check_metric_names
from . import fast_json, json_slices
from .body import Body, count_byte, count_empty_arrays
from .decoding import PREDICTIONS, SplicedTensor, check_size, decode
from .pointers import pointer
from .problems import ProblemError, item
from .request_errors import nested_locator, problem_from, translate
from .schemas import Tensor


@dataclass(frozen=True)
class Parsed:
    """A validated request: its options by field name and its arrays decoded.

    ``predictions`` names the predictions field that was sent (``logits`` or ``probabilities``);
    ``nested`` tells, per array, whether it came as nested JSON (pointers descend into it) or as a Tensor.
    A scalar ``sample_weight`` stays a number.
    """

    options: dict[str, Any]
    arrays: dict[str, np.ndarray | float]
    predictions: str
    nested: dict[str, bool]

    @property
    def elements(self) -> int:
        """How many prediction elements the request carries, for the metrics."""
        return int(np.size(self.arrays[self.predictions]))


def parse(body: Body, family: Family, *, max_elements: int) -> Parsed:
    _check_element_limits(body, family, max_elements)
    request, decoded = _validate(body, family)
    predictions = predictions_field(
        [name for name in family.arrays if getattr(request, name) is not None], family, pointer
    )
    try:  # options before arrays: an unknown metric is named whatever the arrays hold
        check_metric_names(getattr(request, "metrics", ()), family.metrics)
    except LossInputError as exc:
        raise problem_from(exc, nested_locator({})) from None
    arrays: dict[str, np.ndarray | float] = {}
    nested: dict[str, bool] = {}
    for name, kind in family.arrays.items():
        value = decoded.get(name, getattr(request, name))
        if value is None:
            continue
        nested[name] = not isinstance(value, Tensor | SplicedTensor)
        if isinstance(value, float):
            arrays[name] = value  # a scalar weight: broadcast by the core
            continue
        arrays[name] = decode(
            value, field=name, integer=kind.integer, allowed=kind.dtypes, max_elements=max_elements
        )
    options = {
        name: getattr(request, name) for name in type(request).model_fields if name not in family.arrays
    }
    return Parsed(options=options, arrays=arrays, predictions=predictions, nested=nested)


def _check_element_limits(body: Body, family: Family, max_elements: int) -> None:
    """413 before anything is parsed when a nested array holds more numbers than the limit.

    In JSON text an array's commas number its elements minus one, plus one per empty sub-array, at any
    nesting: so a body with fewer commas than the limit has no array over it (one count at memchr speed),
    and otherwise each array's own commas, counted in its span of text, give its exact size. Bodies the
    span finder does not take (escapes, repeated keys) are left to the parsers, after which ``decode``
    counts again."""
    # A body shorter than the limit cannot hold that many commas: small requests skip the count.
    if len(body) <= max_elements or count_byte(body, b",") < max_elements:
        return
    names = [name for name, kind in family.arrays.items() if kind.bulk]
    spans = json_slices.large_arrays(body, names, min_bytes=0, run_bytes=len(body))
    for name, span in (spans or {}).items():
        commas = count_byte(body, b",", span.start, span.end)
        if commas >= max_elements:
            check_size(commas + 1 - count_empty_arrays(body, span.start, span.end), name, max_elements)


def _validate(body: Body, family: Family) -> tuple[Any, fast_json.Decoded]:
    """The request model, plus the arrays a fast path already decoded (none on the general path)."""
    fast = fast_json.parse(body, family.request, family.arrays)
    if fast is not None:
        return fast
    # Pydantic and json take bytes, not a mapping: the general path (problems, unusual bodies) copies it.
    text = bytes(body) if isinstance(body, mmap.mmap) else body
    try:
        return family.request.model_validate_json(text), {}
    except ValidationError as exc:
        raise translate(exc, text, family) from None


def predictions_field(sent: Collection[str], family: Family, where: Callable[[str], str]) -> str:
    """Exactly one of the family's prediction fields must be among the ``sent`` arrays; ``where``
    points at a field in the request."""
    names = [name for name, kind in family.arrays.items() if kind is PREDICTIONS]
    given = [name for name in names if name in sent]
    if len(given) == 1:
        return given[0]
    at = where(names[1]) if given else where(names[0])
    message = (
        f"send exactly one of {' and '.join(names)}, not both"
        if given
        else f"{names[0]} (or {' or '.join(names[1:])}) is required"
    )
    raise ProblemError(
        "invalid_field",
        message,
        errors=[item("invalid_field", at, message)],
        hint="logits are unnormalised scores; probabilities are softmax outputs",
    )
