"""The V2 protocol's bodies (Pydantic v2): the inference request header is validated with them, and
they document every /v2 route in the OpenAPI document (no recursive schemas: tensor data is a list)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, WithJsonSchema

from ..schemas import TENSOR_MAX_RANK, StrictModel

Datatype = Literal["FP16", "BF16", "FP32", "FP64", "INT32", "INT64"]
ParameterValue = bool | int | float | str

# Tensor data is read with NumPy, not validated element by element: any nesting, row-major.
TensorData = Annotated[
    Any,
    WithJsonSchema(
        {
            "type": "array",
            "items": {},
            "description": "the elements, row-major: flat, or nested like the shape",
        }
    ),
]


class InputParameters(StrictModel):
    binary_data_size: int | None = Field(
        None,
        ge=0,
        description="binary tensor extension: the input's bytes follow the JSON header (little-endian, "
        "row-major), in input order",
    )


class RequestInput(StrictModel):
    name: str = Field(description="an input of the model's metadata, e.g. logits, labels, sample_weight")
    shape: list[Annotated[int, Field(ge=0)]] = Field(max_length=TENSOR_MAX_RANK)
    datatype: Datatype
    parameters: InputParameters | None = None
    data: TensorData = None


class OutputParameters(StrictModel):
    binary_data: bool | None = Field(None, description="return this output as raw bytes after the header")


class RequestOutput(StrictModel):
    name: str
    parameters: OutputParameters | None = None


class InferenceRequest(StrictModel):
    """The JSON of an inference request (its header, with the binary tensor extension)."""

    id: str | None = Field(None, description="echoed in the response")
    parameters: dict[str, ParameterValue] | None = Field(
        None,
        description="the model's options (its request fields other than the inputs; lists as "
        "comma-separated strings), plus the protocol's binary_data_output",
    )
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = Field(
        None, description="the outputs wanted (default: all that have a value)"
    )


class ResponseOutput(BaseModel):
    name: str
    datatype: str
    shape: list[int]
    parameters: dict[str, ParameterValue] | None = None
    data: TensorData = None


class InferenceResponse(BaseModel):
    model_name: str
    model_version: str
    id: str | None = None
    parameters: dict[str, ParameterValue] = Field(
        description="`warnings`: the warnings as a JSON string (a list of {code, message, pointer}); "
        "`reduction`, `precision`, `num_classes`, and `shape` (the per-example shape, a JSON string) "
        "as /v1 answers them"
    )
    outputs: list[ResponseOutput]


class TensorMetadata(BaseModel):
    name: str
    datatype: str = Field(description="the preferred datatype; every datatype the input takes is accepted")
    shape: list[int] = Field(description="-1 for a variable dimension")


class ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str]


class Live(BaseModel):
    live: bool


class Ready(BaseModel):
    ready: bool


class ModelReady(BaseModel):
    name: str
    ready: bool
