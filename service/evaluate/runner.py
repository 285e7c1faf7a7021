"""One evaluation: chunk the dataset, send the chunks, combine the answers."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from service.evaluate import v2
from service.evaluate.aggregate import (
    Totals,
    combined_losses,
    combined_metrics,
    combined_shape,
    metric_values,
    same_everywhere,
)
from service.evaluate.client import Answer, RetryPolicy, Sender, json_payload
from service.evaluate.data import Array, Mode, Source
from service.evaluate.requests import RequestBuilder, RequestOptions, auto_chunk_size
from service.families import family_of
from service.losses.metrics import metric_json, null_message, null_reason

# Warnings a chunk raises about itself as a batch (the server's codes).
BATCH_LEVEL_WARNINGS = frozenset({"empty_batch", "zero_denominator"})


@dataclass(frozen=True)
class Evaluation:
    """The combined result; ``loss`` is the requested reduction, ``reductions`` all of them."""

    endpoint: Mode
    reduction: str
    totals: Totals
    num_examples: int
    num_classes: int
    shape: list[int]
    precision: str
    warnings: list[dict[str, Any]]
    chunk_size: int
    chunks: int
    attempts: int
    answers_per_url: dict[str, int]
    losses: Array | None = field(default=None, repr=False)
    metric_statistics: dict[str, dict[str, float | Array]] = field(default_factory=dict)

    @property
    def metrics(self) -> dict[str, float | None]:
        """Each requested metric's value over the whole dataset."""
        return metric_values(self.metric_statistics)

    @property
    def loss(self) -> float | None:
        return self.totals.reduce(self.reduction)

    @property
    def reductions(self) -> dict[str, float | None]:
        return self.totals.all_reductions()

    def to_json(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "endpoint": self.endpoint,
            "reduction": self.reduction,
            "loss": self.loss,
            "reductions": self.reductions,
            "statistics": {
                **self.totals.statistics,
                "num_examples": self.num_examples,
                "num_classes": self.num_classes,
                "shape": self.shape,
                "precision": self.precision,
            },
            "requests": {
                "chunk_size": self.chunk_size,
                "chunks": self.chunks,
                "attempts": self.attempts,
                "answers_per_url": self.answers_per_url,
            },
            "warnings": self.warnings,
        }
        if self.metric_statistics:
            values = self.metrics
            result["metrics"] = {
                name: metric_json(values[name], stats) for name, stats in self.metric_statistics.items()
            }
        if self.losses is not None:
            result["losses"] = self.losses.tolist()
        return result


async def evaluate_async(
    dataset: Source,
    urls: Sequence[str],
    options: RequestOptions | None = None,
    *,
    mode: Mode | None = None,
    chunk_size: int | None = None,
    tensors: bool = True,
    protocol: str | None = None,
    concurrency: int = 4,
    retry: RetryPolicy | None = None,
    timeout: float = 60.0,
    transport: httpx.AsyncBaseTransport | None = None,
    on_answer: Callable[[Answer], None] | None = None,
    api_key: str | None = None,
    compress: bool = False,
) -> Evaluation:
    """Evaluate ``dataset`` (a :class:`Dataset` in memory or a file reader from
    :func:`service.evaluate.readers.open_source`) in chunks of ``chunk_size`` examples (default:
    about 2**20 prediction values per request) over ``protocol`` ("v1", "v2"; default: v2 when every
    URL serves it, unless nested JSON is asked for); raises ChunkError when a chunk fails, InputError
    or EncodingError when a chunk cannot be read or encoded."""
    options = options or RequestOptions()
    mode = mode or dataset.mode()
    data = dataset.normalised(mode)
    chunk_size = chunk_size or auto_chunk_size(data)
    urls = [url.rstrip("/") for url in urls]
    if protocol is None:
        protocol = await detect_protocol(urls, transport, timeout) if tensors else "v1"
    builder = RequestBuilder(data, options, mode, tensors=tensors, protocol=protocol)
    family = family_of(mode)
    sender = Sender(
        urls=urls,
        path=v2.path(family) if protocol == "v2" else family.path,
        decode=v2.decode if protocol == "v2" else json_payload,
        concurrency=concurrency,
        retry=retry or RetryPolicy(),
        timeout=timeout,
        transport=transport,
        request_prefix=f"evaluate-{uuid.uuid4().hex[:8]}",
        api_key=api_key,
        compress=compress,
    )
    try:
        answers = await sender.send_all(builder.chunks(chunk_size), on_answer)
    except ExceptionGroup as group:
        # A chunk that cannot be read or encoded (read while sending) stops the workers.
        raise _first(group) from None
    payloads = [answer.payload for answer in answers]
    single = len(data.prediction_shape) == 1
    totals = Totals.of(payloads)
    metrics = combined_metrics(payloads)
    warnings = merge_warnings(answers, dataset_has_counts=totals.count > 0)
    for name, statistics in metrics.items():
        reason = null_reason(name, statistics)
        if reason is not None:
            warnings.append({"code": reason, "message": null_message(name, reason), "chunks": []})
    if options.reduction != "none" and totals.reduce(options.reduction) is None:
        warnings.append(
            {
                "code": "zero_denominator",
                "message": f"the denominator of {options.reduction!r} is 0 over the whole dataset; "
                "loss is null",
                "chunks": [],
            }
        )
    return Evaluation(
        endpoint=mode,
        reduction=options.reduction,
        totals=totals,
        num_examples=data.num_examples,
        num_classes=int(same_everywhere(payloads, "num_classes")),
        shape=combined_shape(payloads, single),
        precision=str(same_everywhere(payloads, "precision")),
        warnings=warnings,
        chunk_size=chunk_size,
        chunks=len(answers),
        attempts=sum(answer.attempts for answer in answers),
        answers_per_url=dict(Counter(answer.url for answer in answers)),
        losses=combined_losses(payloads, single) if options.wants_losses else None,
        metric_statistics=metrics,
    )


def _first(group: BaseExceptionGroup[Exception]) -> Exception:
    first = group.exceptions[0]
    return _first(first) if isinstance(first, BaseExceptionGroup) else first


async def detect_protocol(
    urls: Sequence[str], transport: httpx.AsyncBaseTransport | None, timeout: float
) -> str:
    """``v2`` when every URL answers ``GET /v2`` with 200, else ``v1``."""
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
        for url in urls:
            try:
                if (await client.get(url + v2.PROBE_PATH)).status_code != 200:
                    return "v1"
            except httpx.TransportError:
                return "v1"
    return "v2"


def evaluate(dataset: Source, urls: Sequence[str], **kwargs: Any) -> Evaluation:
    """Synchronous :func:`evaluate_async` (same arguments)."""
    return asyncio.run(evaluate_async(dataset, urls, **kwargs))


def merge_warnings(answers: Sequence[Answer], *, dataset_has_counts: bool) -> list[dict[str, Any]]:
    """One entry per warning code, with the chunks that raised it (pointers are chunk-relative).

    A chunk of padding only is "empty" on its own but not a problem for the dataset, so
    batch-level warnings are kept only when they hold for the whole dataset; metrics' warnings are
    left to the combined statistics.
    """
    merged: dict[str, dict[str, Any]] = {}
    for answer in answers:
        for warning in answer.payload.get("warnings", []):
            # A chunk's null metric (/metrics; V2: /parameters/metrics) says nothing of the dataset's.
            if (warning.get("pointer") or "").endswith("/metrics"):
                continue
            if dataset_has_counts and warning.get("code") in BATCH_LEVEL_WARNINGS:
                continue
            entry = merged.setdefault(
                warning["code"], {**warning, "chunks": [], "first_rows": answer.chunk.rows}
            )
            entry["chunks"].append(answer.chunk.index)
    return list(merged.values())
