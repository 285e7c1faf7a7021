"""The loss families: each declared once, here. Routes, parsing, errors, OpenAPI, ``/v1/info`` and the
evaluator iterate these declarations; nothing else lists the families or branches on one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .api.decoding import CLASS_IDS, PER_CLASS, PREDICTIONS, TARGETS, WEIGHTS, ArrayKind
from .api.schemas import (
    BinaryCrossEntropyRequest,
    CategoricalCrossEntropyRequest,
    FamilyRequest,
    SparseCrossEntropyRequest,
)
from .losses import LossResult, binary_cross_entropy, categorical_cross_entropy, sparse_cross_entropy


@dataclass(frozen=True)
class Family:
    """One loss family: where it is served, what its request holds and which core function computes it.

    ``name`` is the core function's name, the operationId and the evaluator's name for it. ``arrays``
    maps each array field of ``request`` to its kind; every other field is an option passed to
    ``compute`` under its own name. ``unknown_field_hints`` explain fields that belong elsewhere.
    """

    name: str
    path: str
    summary: str
    request: type[FamilyRequest]
    arrays: Mapping[str, ArrayKind]
    compute: Callable[..., LossResult]
    unknown_field_hints: Mapping[str, str] = field(default_factory=dict)

    @property
    def short_name(self) -> str:
        """``sparse`` for ``sparse_cross_entropy``: the evaluator's ``--endpoint`` choice."""
        return self.name.removesuffix("_cross_entropy")


PREDICTION_ARRAYS: dict[str, ArrayKind] = {"logits": PREDICTIONS, "probabilities": PREDICTIONS}
WEIGHT_ARRAYS: dict[str, ArrayKind] = {"sample_weight": WEIGHTS, "class_weight": PER_CLASS}

SPARSE = Family(
    name="sparse_cross_entropy",
    path="/v1/cross-entropy/sparse",
    summary="Softmax cross-entropy with integer class labels",
    request=SparseCrossEntropyRequest,
    arrays={**PREDICTION_ARRAYS, "labels": CLASS_IDS, **WEIGHT_ARRAYS},
    compute=sparse_cross_entropy,
)

CATEGORICAL = Family(
    name="categorical_cross_entropy",
    path="/v1/cross-entropy/categorical",
    summary="Softmax cross-entropy with one-hot or soft label distributions",
    request=CategoricalCrossEntropyRequest,
    arrays={**PREDICTION_ARRAYS, "labels": TARGETS, **WEIGHT_ARRAYS},
    compute=categorical_cross_entropy,
    unknown_field_hints={
        "ignore_index": "ignore_index applies to class-id labels (sparse_cross_entropy); on "
        "/categorical leave an example out with sample_weight 0",
    },
)

BINARY = Family(
    name="binary_cross_entropy",
    path="/v1/cross-entropy/binary",
    summary="Sigmoid cross-entropy for binary and multi-label data",
    request=BinaryCrossEntropyRequest,
    arrays={**PREDICTION_ARRAYS, "labels": TARGETS, **WEIGHT_ARRAYS, "pos_weight": PER_CLASS},
    compute=binary_cross_entropy,
)

FAMILIES: tuple[Family, ...] = (SPARSE, CATEGORICAL, BINARY)
BY_NAME: dict[str, Family] = {family.name: family for family in FAMILIES}


def with_paths(text: str) -> str:
    """Core texts name functions (``categorical_cross_entropy``); over HTTP they name the endpoint."""
    for family in FAMILIES:
        text = text.replace(family.name, f"POST {family.path}")
    return text


def family_of(name: str) -> Family:
    """The family named by its operationId or short name (``sparse``)."""
    for family in FAMILIES:
        if name in (family.name, family.short_name):
            return family
    raise KeyError(name)
