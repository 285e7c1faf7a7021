"""Request and response bodies (Pydantic v2). One model serves both validation and the OpenAPI document.

Nested arrays are spelled out rank by rank: the OpenAPI document must not contain recursive schemas,
which two common client generators cannot handle.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..losses import OPTION_BOUNDS, Reduction

# Nested JSON arrays are spelled out rank by rank below (no recursive schemas), so they stop at 4; a
# Tensor's shape is a list, so it goes further.
NESTED_MAX_RANK = 4
TENSOR_MAX_RANK = 8

Floats1 = list[float]
Floats2 = list[list[float]]
Floats3 = list[list[list[float]]]
Floats4 = list[list[list[list[float]]]]
Ints1 = list[int]
Ints2 = list[list[int]]
Ints3 = list[list[list[int]]]
Ints4 = list[list[list[list[int]]]]

# left_to_right: the first rank that fits wins, and a wrong rank fails on the first element, so the
# union costs one cheap probe per rank rather than a full validation per member.
FloatArray = Annotated[Floats1 | Floats2 | Floats3 | Floats4, Field(union_mode="left_to_right")]
IntArray = Annotated[Ints1 | Ints2 | Ints3 | Ints4, Field(union_mode="left_to_right")]
# Per-example losses: a number for one example, else nested like the per-example shape (rank < 8).
NestedLosses = Annotated[
    float
    | list[float]
    | list[list[float]]
    | list[list[list[float]]]
    | list[list[list[list[float]]]]
    | list[list[list[list[list[float]]]]]
    | list[list[list[list[list[list[float]]]]]]
    | list[list[list[list[list[list[list[float]]]]]]],
    Field(union_mode="left_to_right"),
]

TensorDtype = Literal["float16", "bfloat16", "float32", "float64", "int32", "int64"]


class StrictModel(BaseModel):
    # Unknown fields are errors (a misspelt option must never be silently ignored) and types are strict:
    # true/false and strings are not numbers.
    model_config = ConfigDict(extra="forbid", strict=True)


# Every family's request model derives from this; the declarations in ``service.families`` say which
# of its fields are arrays and which are options.
FamilyRequest = StrictModel


def bounds(option: str) -> Any:
    """The option's range as ``Field`` keywords: the core's bounds, defined once."""
    return OPTION_BOUNDS[option]


class Tensor(StrictModel):
    """A compact array: little-endian, row-major bytes, base64-encoded."""

    dtype: TensorDtype = Field(description="element type; bfloat16 is the upper half of a float32")
    shape: list[Annotated[int, Field(ge=0)]] = Field(
        max_length=TENSOR_MAX_RANK, description="dimensions, outermost first; [] is a scalar"
    )
    data: str = Field(
        json_schema_extra={"format": "byte"},
        description="base64 of prod(shape) × itemsize bytes, little-endian, row-major (C order)",
    )


class CrossEntropyOptions(StrictModel):
    """Fields shared by both cross-entropy endpoints."""

    logits: FloatArray | Tensor | None = Field(
        None,
        description="unnormalised scores, classes on `axis`; exactly one of logits / probabilities. "
        "`-Infinity` (JSON) or -inf (Tensor) masks a class",
    )
    probabilities: FloatArray | Tensor | None = Field(
        None,
        description="predicted probabilities (Keras from_logits=False): each row is divided by its "
        "sum, then clipped to [epsilon, 1 - epsilon]",
    )
    axis: int = Field(-1, description="the class axis of the predictions; 1 takes PyTorch's (N, C, d1, ...)")
    reduction: Reduction = Field(
        "mean",
        description="mean: Σwl/Σw (torch 'mean'); sum; sum_over_batch_size: Σwl/#counted (Keras "
        "default); sum_by_nonzero_weights: Σwl/#{w≠0} (TF v1 default); none",
    )
    sample_weight: float | FloatArray | Tensor | None = Field(
        None,
        description="per-example weights >= 0, broadcast with NumPy rules to the per-example shape "
        "(e.g. [N, 1] on [N, T]); default 1",
    )
    class_weight: list[float] | None = Field(
        None, min_length=1, description="one weight >= 0 per class (torch `weight`)"
    )
    label_smoothing: float = Field(
        0.0, **bounds("label_smoothing"), description="target becomes (1-ε)·target + ε/C"
    )
    epsilon: float = Field(1e-7, **bounds("epsilon"), description="clip for `probabilities`")
    precision: Literal["float32", "float64"] | None = Field(
        None,
        description="compute precision; null = the data's own (JSON numbers: float64; a Tensor: its "
        "dtype, float16/bfloat16 upcast to float32). Sums over examples (every reduction and statistic) "
        "are always accumulated in float64; within a float32 row the log-sum-exp's terms are summed in "
        "float32 (a BLAS dot per row, as torch does: errors of float32 size, about 1e-6 relative "
        "measured with 128 000 classes)",
    )
    per_example: bool = Field(True, description="return the per-example `losses`")
    focal_gamma: float = Field(
        0.0,
        **bounds("focal_gamma"),
        description="focal focusing exponent γ: each class term −log p_c becomes (1−p_c)^γ·(−log p_c) "
        "(Keras CategoricalFocalCrossentropy); 0 is plain cross-entropy, exactly",
    )
    focal_alpha: float | None = Field(
        None,
        **bounds("focal_alpha"),
        description="focal balancing factor α multiplying the loss; null applies none (Keras "
        "CategoricalFocalCrossentropy always applies its default 0.25)",
    )


class SparseCrossEntropyRequest(CrossEntropyOptions):
    """Integer class labels (tf sparse_softmax_cross_entropy_with_logits, Keras
    SparseCategoricalCrossentropy, torch cross_entropy with class indices)."""

    labels: int | IntArray | Tensor = Field(
        description="class ids in [0, C): the predictions' shape without `axis` (a trailing 1 is squeezed); "
        "a Tensor must be int32 or int64"
    )
    ignore_index: int | None = Field(
        None, description="labels equal to this count for nothing (loss 0, weight 0), e.g. -100"
    )


class CategoricalCrossEntropyRequest(CrossEntropyOptions):
    """One-hot or soft label distributions (tf softmax_cross_entropy_with_logits, Keras
    CategoricalCrossentropy, torch cross_entropy with probability targets)."""

    labels: FloatArray | Tensor = Field(
        description="target distributions, same shape as the predictions; each row >= 0, summing to 1"
    )


class BinaryCrossEntropyRequest(CrossEntropyOptions):
    """Sigmoid cross-entropy for binary and multi-label data: every element an independent yes/no (tf
    sigmoid_cross_entropy_with_logits / weighted_cross_entropy_with_logits, Keras BinaryCrossentropy,
    torch binary_cross_entropy_with_logits, optax sigmoid_binary_cross_entropy)."""

    logits: FloatArray | Tensor | None = Field(
        None,
        description="unbounded scores, one per label, shape S; exactly one of logits / probabilities. "
        "NaN and ±inf are rejected",
    )
    probabilities: FloatArray | Tensor | None = Field(
        None,
        description="predicted probabilities σ(x) in [0, 1], shape S: clipped to [epsilon, 1 - epsilon] "
        "(Keras from_logits=False), never renormalised",
    )
    labels: FloatArray | Tensor = Field(
        description="targets in [0, 1] (hard 0/1 or soft), the predictions' shape S (a trailing 1 is "
        "squeezed); a Tensor may be float or int"
    )
    axis: int | None = Field(  # type: ignore[assignment]
        -1,
        description="the label axis: an example's loss is the mean of its labels' terms over it (Keras). "
        "null: every element is its own example (torch's and TF's elementwise view). Rank-1 predictions "
        "are N examples of one label each",
    )
    class_weight: list[float] | None = Field(
        None,
        min_length=1,
        description="one weight >= 0 per label (C = size of the label axis; with axis null or rank 1, of "
        "the last axis), inside the example's mean (torch `weight` of shape [C])",
    )
    pos_weight: list[float] | None = Field(
        None,
        min_length=1,
        description="one weight >= 0 per label, multiplying the positive term (torch/TF `pos_weight`); "
        "laid out like class_weight",
    )
    label_smoothing: float = Field(
        0.0, **bounds("label_smoothing"), description="target becomes y·(1-ε) + ε/2 (Keras)"
    )
    ignore_index: float | None = Field(
        None,
        description="labels equal to this are masked (e.g. -1 for not annotated): they count for nothing, "
        "and an example whose labels are all masked is not counted",
    )
    focal_gamma: float = Field(
        0.0,
        **bounds("focal_gamma"),
        description="focal exponent γ: ℓ ← ℓ·(1−p_t)^γ with p_t = p·y + (1−p)·(1−y) (torchvision, optax, "
        "Keras BinaryFocalCrossentropy); 0 is plain binary cross-entropy, exactly",
    )
    focal_alpha: float | None = Field(
        None,
        **bounds("focal_alpha"),
        description="focal balancing: ℓ ← ℓ·(α·y + (1−α)·(1−y)); null applies none (torchvision's default "
        "is 0.25; Keras applies α only with apply_class_balancing=True)",
    )


class ResponseWarning(BaseModel):
    code: str = Field(description="stable identifier, e.g. labels_squeezed, zero_denominator")
    message: str
    pointer: str | None = Field(None, description="JSON Pointer into the request body")


class CrossEntropyResponse(BaseModel):
    loss: float | None = Field(description="the reduced loss; null for 'none' or a zero denominator")
    reduction: Reduction
    losses: NestedLosses | None = Field(
        None,
        description="weighted per-example losses w_i·l_i (0 where ignored), nested like `shape`; "
        "absent when per_example is false",
    )
    shape: list[int] = Field(description="the per-example shape: the predictions' shape without `axis`")
    num_classes: int
    count: int = Field(description="counted (not ignored) examples")
    weight_sum: float = Field(description="Σ w_i")
    nonzero_weight_count: int = Field(description="#{counted i: w_i ≠ 0}")
    loss_sum: float = Field(
        description="Σ w_i·l_i in float64; combine requests exactly with weight_sum, "
        "count and nonzero_weight_count"
    )
    precision: Literal["float32", "float64"]
    warnings: list[ResponseWarning]


class ProblemItem(BaseModel):
    code: str
    pointer: str = Field(description="JSON Pointer into the request body, e.g. /labels/3")
    message: str
    expected: Any | None = None
    received: Any | None = None
    index: list[int] | None = Field(None, description="element index within the array (Tensor form too)")


class Problem(BaseModel):
    """RFC 9457 problem details, with the offending fields listed in `errors`."""

    type: str = Field(description="stable URI reference per code, e.g. /problems/shape-mismatch")
    title: str
    status: int
    detail: str
    code: str
    instance: str
    request_id: str
    error_count: int = Field(description="how many problems there are; `errors` lists the first few")
    errors: list[ProblemItem]
    hint: str | None = None


class Limits(BaseModel):
    max_body_bytes: int
    max_elements: int = Field(description="most elements in one array (nested or Tensor)")
    max_error_items: int
    max_nested_rank: int = Field(description="nested JSON arrays have rank 1 to this")
    max_tensor_rank: int = Field(description="a Tensor's shape has at most this many dimensions")


class Info(BaseModel):
    name: str
    version: str
    instance: str = Field(description="host name of the process that answered")
    limits: Limits
    dtypes: list[TensorDtype]
    reductions: list[Reduction]
    precisions: list[Literal["float32", "float64"]]
    conventions: dict[str, str]


class Status(BaseModel):
    status: str
