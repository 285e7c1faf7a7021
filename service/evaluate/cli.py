"""``loss-service evaluate``: evaluate a dataset file against one or more service URLs."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from service.evaluate.aggregate import InconsistentAnswers
from service.evaluate.client import ChunkError, RetryPolicy
from service.evaluate.data import InputError
from service.evaluate.encoding import EncodingError
from service.evaluate.output import print_failure, print_summary, progress_bar, write_json
from service.evaluate.plot import reliability_diagram
from service.evaluate.readers import Names, open_source
from service.evaluate.requests import PROTOCOLS, RequestOptions
from service.evaluate.runner import evaluate_async
from service.families import FAMILIES
from service.losses import REDUCTIONS

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EPILOG = """examples:
  loss-service evaluate data.npz --url http://127.0.0.1:8000 --ignore-index -100 -o result.json
  loss-service evaluate logits.npy --labels labels.npy --sample-weight weights.npy --reduction sum
  loss-service evaluate preds.jsonl --probabilities --class-weight 0.2,1,3 --json \\
      --url http://replica-1:8000 --url http://replica-2:8000 --concurrency 8

exit status: 0 done; 1 a chunk failed (its problem is printed); 2 unusable input or arguments."""


def _weight(text: str) -> Path | float:
    """--sample-weight takes a number (sent as is) or a .npy file."""
    try:
        return float(text)
    except ValueError:
        return Path(text)


def _class_weight(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected comma-separated numbers, e.g. 0.2,1,3") from exc


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="loss-service evaluate",
        description="Evaluate cross-entropy (softmax or sigmoid) over a whole dataset, in chunks, against\n"
        "one or more loss-service URLs; the chunks' answers are combined exactly.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    data = parser.add_argument_group("data")
    data.add_argument(
        "data",
        type=Path,
        help="a .npz with arrays logits|probabilities, labels and optionally sample_weight; a .npy "
        "of predictions (with --labels); .jsonl, one example per line with those fields; or, read "
        "in chunks, .parquet, .arrow/.feather, a datasets save_to_disk directory or .safetensors "
        "with columns/tensors of those names (or named by the --*-column options)",
    )
    data.add_argument("--labels", type=Path, help="labels .npy (with a .npy predictions file)")
    data.add_argument("--sample-weight", type=_weight, help="a number, or a .npy of weights")
    data.add_argument("--probabilities", action="store_true", help="the predictions are probabilities")
    predictions = data.add_mutually_exclusive_group()
    predictions.add_argument(
        "--logits-column", metavar="NAME", help="column/tensor of logits rows (default 'logits')"
    )
    predictions.add_argument(
        "--probabilities-column", metavar="NAME", help="column/tensor of probability rows instead"
    )
    data.add_argument("--labels-column", metavar="NAME", help="column/tensor of labels (default 'labels')")
    data.add_argument(
        "--weights-column", metavar="NAME", help="column/tensor of sample weights (default 'sample_weight')"
    )
    data.add_argument(
        "--mode",
        choices=[family.short_name for family in FAMILIES],
        help="endpoint (default: labels shaped like the predictions are categorical, or binary when "
        "they are multi-hot: 0/1 only, some row not summing to 1; other labels are sparse)",
    )

    body = parser.add_argument_group("request options (as in the request body)")
    body.add_argument("--reduction", choices=REDUCTIONS, default="mean")
    body.add_argument("--axis", type=int, help="class axis of the predictions (default -1)")
    body.add_argument("--class-weight", type=_class_weight, help="C comma-separated weights")
    body.add_argument(
        "--pos-weight", type=_class_weight, help="binary: C comma-separated weights of the positive term"
    )
    body.add_argument("--focal-gamma", type=float, help="focal exponent γ (default 0: plain cross-entropy)")
    body.add_argument("--focal-alpha", type=float, help="focal balancing α in [0, 1] (default: none)")
    body.add_argument("--label-smoothing", type=float)
    body.add_argument("--ignore-index", type=int, help="label to ignore, e.g. -100 (sparse)")
    body.add_argument("--epsilon", type=float, help="clip for probabilities (default 1e-7)")
    body.add_argument("--precision", choices=["float32", "float64"])
    body.add_argument("--per-example", action="store_true", help="collect per-example losses into --output")
    body.add_argument(
        "--metrics",
        type=_names,
        default=(),
        help="comma-separated metrics to compute beside the loss, combined exactly over the chunks: "
        "accuracy, top_k_accuracy, perplexity, calibration_error, brier_score (binary: accuracy, "
        "calibration_error, brier_score)",
    )
    body.add_argument("--top-k", type=int, help="k of top_k_accuracy (default 5)")
    body.add_argument("--calibration-bins", type=int, help="bins of calibration_error (default 15)")
    body.add_argument("--threshold", type=float, help="binary accuracy: positive iff p > threshold (0.5)")

    send = parser.add_argument_group("sending")
    send.add_argument(
        "--url",
        action="append",
        dest="urls",
        metavar="URL",
        help="service base URL; repeat to spread chunks over replicas (default http://127.0.0.1:8000)",
    )
    send.add_argument(
        "--chunk-size", type=int, help="examples per request (default: ~2^20 prediction values)"
    )
    send.add_argument("--concurrency", type=int, default=4, help="requests in flight at most")
    send.add_argument("--retries", type=int, default=4, help="retries per chunk (503, network)")
    send.add_argument("--backoff", type=float, default=0.2, help="first backoff in seconds")
    send.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    send.add_argument("--json", action="store_true", help="send nested arrays, not Tensors (/v1)")
    send.add_argument(
        "--protocol",
        choices=["auto", *PROTOCOLS],
        default="auto",
        help="v2: binary Open Inference Protocol requests; v1: JSON bodies with base64 Tensors; auto "
        "(default): v2 when every URL answers GET /v2, else v1",
    )
    send.add_argument(
        "--api-key",
        default=os.environ.get("LOSS_SERVICE_API_KEY"),
        help="sent as 'Authorization: Bearer <key>' (default: $LOSS_SERVICE_API_KEY; prefer the "
        "variable: a command line is visible to other users)",
    )
    send.add_argument("--compress", action="store_true", help="gzip the request bodies")

    out = parser.add_argument_group("output")
    out.add_argument("--output", "-o", type=Path, help="write the full result as JSON here")
    out.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    out.add_argument(
        "--plot",
        type=Path,
        metavar="PNG",
        help="draw a reliability diagram of the combined calibration bins here (adds calibration_error; "
        "needs the 'plot' extra: matplotlib)",
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    console, errors = Console(), Console(stderr=True)
    metrics = args.metrics
    if args.plot is not None and "calibration_error" not in metrics:
        metrics = (*metrics, "calibration_error")
    options = RequestOptions(
        reduction=args.reduction,
        axis=args.axis,
        class_weight=args.class_weight,
        pos_weight=args.pos_weight,
        focal_gamma=args.focal_gamma,
        focal_alpha=args.focal_alpha,
        label_smoothing=args.label_smoothing,
        ignore_index=args.ignore_index,
        epsilon=args.epsilon,
        precision=args.precision,
        per_example=args.per_example,
        metrics=metrics,
        top_k=args.top_k,
        calibration_bins=args.calibration_bins,
        threshold=args.threshold,
    )
    try:
        dataset = open_source(
            args.data,
            labels=args.labels,
            sample_weight=args.sample_weight,
            probabilities=args.probabilities,
            names=Names(
                args.logits_column, args.probabilities_column, args.labels_column, args.weights_column
            ),
        )
        with progress_bar(errors, dataset.num_examples, not args.no_progress) as advance:
            result = asyncio.run(
                evaluate_async(
                    dataset,
                    args.urls or ["http://127.0.0.1:8000"],
                    options,
                    mode=args.mode,
                    chunk_size=args.chunk_size,
                    tensors=not args.json,
                    protocol=None if args.protocol == "auto" else args.protocol,
                    concurrency=args.concurrency,
                    retry=RetryPolicy(attempts=1 + max(0, args.retries), base_delay=args.backoff),
                    timeout=args.timeout,
                    on_answer=advance,
                    api_key=args.api_key,
                    compress=args.compress,
                )
            )
        if args.plot is not None:
            title = f"reliability ({result.endpoint}, {result.num_examples} examples)"
            reliability_diagram(result.metric_statistics["calibration_error"], args.plot, title)
    except (InputError, EncodingError) as exc:
        # Escaped: a message may hold brackets (an extra's name) that are not markup.
        errors.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False)
        return EXIT_USAGE
    except ChunkError as exc:
        print_failure(errors, exc)
        return EXIT_FAILED
    except InconsistentAnswers as exc:
        errors.print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_FAILED
    print_summary(console, result)
    if args.output is not None:
        write_json(args.output, result)
        console.print(f"result written to {args.output}")
    if args.plot is not None:
        console.print(f"reliability diagram written to {args.plot}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
