"""What the user sees: progress bar, summary table, a failed chunk's problem, the JSON result."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from service.evaluate.client import Answer, ChunkError
from service.evaluate.requests import Chunk
from service.evaluate.runner import Evaluation

_ROW_POINTER = re.compile(r"^/(?:logits|probabilities|labels)/(\d+)(?:/|$)")


@contextmanager
def progress_bar(console: Console, rows: int, enabled: bool) -> Iterator[Callable[[Answer], None]]:
    """Yields the per-answer callback that advances a bar counting rows."""
    if not enabled:
        yield lambda answer: None
        return
    columns = (
        TextColumn("[bold]evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("rows"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("rows", total=rows)
        yield lambda answer: progress.advance(task, answer.chunk.stop - answer.chunk.start)


def _number(value: float | None) -> str:
    return "null" if value is None else f"{value:.10g}"


def summary_table(result: Evaluation) -> Table:
    table = Table(title=f"cross-entropy ({result.endpoint})", show_header=True)
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for name, reduced in result.reductions.items():
        label = f"[bold]{name}[/bold] (requested)" if name == result.reduction else name
        table.add_row(label, _number(reduced))
    totals = result.totals
    rows = [
        ("loss_sum", _number(totals.loss_sum)),
        ("weight_sum", _number(totals.weight_sum)),
        ("count", str(totals.count)),
        ("nonzero_weight_count", str(totals.nonzero_weight_count)),
        ("examples", str(result.num_examples)),
        ("per-example shape", str(tuple(result.shape))),
        ("classes", str(result.num_classes)),
        ("precision", result.precision),
        ("requests", f"{result.chunks} × ≤{result.chunk_size} rows, attempts: {result.attempts}"),
    ]
    table.add_section()
    for name, value in rows:
        table.add_row(name, value)
    if result.metric_statistics:
        table.add_section()
        for name, metric in result.metrics.items():
            stats = result.metric_statistics[name]
            label = f"{name} (k={stats['k']})" if "k" in stats else name
            table.add_row(label, _number(metric))
    return table


def print_summary(console: Console, result: Evaluation) -> None:
    console.print(summary_table(result))
    for warning in result.warnings:
        where = f" (chunks {_chunk_list(warning['chunks'])})" if warning["chunks"] else ""
        text = escape(f"{warning['code']}{where}: {warning['message']}")
        console.print(f"[yellow]warning[/yellow] {text}")


def _chunk_list(indices: list[int], limit: int = 8) -> str:
    shown = ", ".join(map(str, indices[:limit]))
    return shown + (f", … ({len(indices)} in all)" if len(indices) > limit else "")


def print_failure(console: Console, error: ChunkError) -> None:
    """The server's problem (title, detail, errors), naming the chunk and its rows."""
    chunk = error.chunk
    console.print("[bold red]evaluation stopped[/bold red]")
    lines = [f"chunk {chunk.index} ({chunk.rows}) sent to {error.url}: {error.reason}"]
    problem: dict[str, Any] = error.problem or {}
    if problem:
        lines.append(f"{problem.get('title', '')} ({problem.get('code', '?')})")
        if problem.get("detail"):
            lines.append(str(problem["detail"]))
        for item in problem.get("errors", []):
            where = f" at {item['pointer']}" if item.get("pointer") else ""
            row = dataset_row(item, chunk)
            if row is not None:
                where += f" (dataset row {row})"
            lines.append(f"  - {item.get('code', '?')}{where}: {item.get('message', '')}")
        shown = len(problem.get("errors", []))
        if problem.get("error_count", shown) > shown:
            lines.append(f"  … {problem['error_count'] - shown} more")
        if problem.get("hint"):
            lines.append(f"hint: {problem['hint']}")
        if problem.get("request_id"):
            lines.append(f"request id: {problem['request_id']}")
        lines.append("(pointers and indices are relative to the chunk)")
    if error.status == 413:
        lines.append("the chunk is over the server's size limit: lower --chunk-size")
    for line in lines:
        # Server text is shown verbatim: no markup, no hard wrapping inside a message.
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def dataset_row(item: dict[str, Any], chunk: Chunk) -> int | None:
    """The dataset row an error item points at: its ``index`` (inside a Tensor) or its JSON
    pointer (``/labels/3/...``) is relative to the chunk."""
    index = item.get("index")
    if isinstance(index, list) and index and isinstance(index[0], int):
        row: int | None = index[0]
    else:
        match = _ROW_POINTER.match(str(item.get("pointer") or ""))
        row = int(match.group(1)) if match else None
    # Out of the chunk's rows, the index is not a row (e.g. a class of a single rank-1 example).
    if row is None or not 0 <= row < chunk.stop - chunk.start:
        return None
    return chunk.start + row


def write_json(path: Path, result: Evaluation) -> None:
    path.write_bytes(orjson.dumps(result.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
