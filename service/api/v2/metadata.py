"""Server and model metadata, generated from the family declarations."""

from __future__ import annotations

from ... import __version__
from ...families import FAMILIES, Family
from ..problems import ProblemError, clip
from .datatypes import preferred
from .inference import VERSION
from .outputs import STATISTIC_DATATYPES
from .schemas import ModelMetadata, ServerMetadata, TensorMetadata

NAME = "loss-service"
EXTENSIONS = ("binary_tensor_data",)
MODELS: dict[str, Family] = {family.name: family for family in FAMILIES}


def server() -> ServerMetadata:
    return ServerMetadata(name=NAME, version=__version__, extensions=list(EXTENSIONS))


def model_of(name: str, version: str | None = None) -> Family:
    """The family served as model ``name``; 404 for another name, or a version other than ``1``."""
    family = MODELS.get(name)
    if family is None:
        raise ProblemError(
            "not_found",
            f"There is no model {clip(name, 60)!r}; the models are {', '.join(MODELS)}",
            hint="GET /v2/models/<name> describes a model's inputs and outputs",
        )
    if version is not None and version != VERSION:
        raise ProblemError(
            "not_found",
            f"Model {family.name} has no version {clip(version, 20)!r}; its only version is {VERSION!r}",
        )
    return family


def model(family: Family) -> ModelMetadata:
    inputs = [
        TensorMetadata(name=name, datatype=preferred(kind), shape=[-1] * kind.rank)
        for name, kind in family.arrays.items()
    ]
    outputs = [
        TensorMetadata(name="loss", datatype="FP64", shape=[1]),
        TensorMetadata(name="losses", datatype="FP32", shape=[-1]),
        *(
            TensorMetadata(name=name, datatype=datatype, shape=[1])
            for name, datatype in STATISTIC_DATATYPES.items()
        ),
    ]
    return ModelMetadata(name=family.name, versions=[VERSION], platform=NAME, inputs=inputs, outputs=outputs)
