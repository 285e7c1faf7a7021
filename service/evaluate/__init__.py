"""Evaluate a whole dataset against one or more loss-service URLs, combining the answers exactly.

``loss-service evaluate ...`` is :func:`service.evaluate.cli.main`; the same machinery is usable
from Python through :func:`evaluate` (the examples in ``examples/`` use it).
"""

from service.evaluate.data import Dataset, Source, load_dataset
from service.evaluate.readers import Names, open_source
from service.evaluate.requests import RequestOptions
from service.evaluate.runner import Evaluation, evaluate, evaluate_async

__all__ = [
    "Dataset",
    "Evaluation",
    "Names",
    "RequestOptions",
    "Source",
    "evaluate",
    "evaluate_async",
    "load_dataset",
    "open_source",
]
