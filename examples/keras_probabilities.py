"""Keras-style evaluation of softmax outputs (``from_logits=False``) with class weights.

A classifier's predicted probabilities and integer labels; rare classes get larger weights, the way
Keras ``fit(class_weight=...)`` turns them into per-example sample weights. Probability rows are
renormalised and clipped to ``[1e-7, 1 - 1e-7]`` as Keras does. Keras's default reduction,
``sum_over_batch_size``, divides the weighted sum by the number of examples::

    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=False)
    loss(labels, probabilities, sample_weight=np.asarray(class_weight)[labels])

(PyTorch's ``cross_entropy(..., weight=class_weight)`` would instead divide by Σ weights: that is
the service's ``mean``, printed too.)

From the repository's root, after the README's install and with a server running (the output
below is checked by tests/docs/test_doc_outputs.py)::

    $ .venv/bin/python examples/keras_probabilities.py --url http://127.0.0.1:8000
    class weights: [0.4608, 0.7326, 1.1976, 2.5316, 4.2553]
    keras sum_over_batch_size: 0.9693527670893106
    torch-style weighted mean: 0.9693705065695808
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import numpy.typing as npt

from service.evaluate import Dataset, Evaluation, RequestOptions, evaluate


def synthetic_predictions(
    seed: int, examples: int, classes: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64], list[float]]:
    """Imbalanced labels, softmax outputs of a so-so classifier, inverse-frequency class weights."""
    rng = np.random.default_rng(seed)
    frequency = np.geomspace(1.0, 0.1, classes)
    labels = rng.choice(classes, size=examples, p=frequency / frequency.sum())
    logits = rng.normal(size=(examples, classes))
    logits[np.arange(examples), labels] += 1.5
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    counts = np.bincount(labels, minlength=classes)
    class_weight = (examples / (classes * np.maximum(counts, 1))).round(4).tolist()
    return probabilities.astype(np.float32), labels, class_weight


def keras_loss(
    urls: list[str],
    probabilities: npt.NDArray[np.floating],
    labels: npt.NDArray[np.integer],
    class_weight: list[float],
    chunk: int,
) -> Evaluation:
    return evaluate(
        Dataset(probabilities, labels, probabilities=True),
        urls,
        options=RequestOptions(reduction="sum_over_batch_size", class_weight=tuple(class_weight)),
        chunk_size=chunk,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--classes", type=int, default=5)
    parser.add_argument("--chunk-size", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    probabilities, labels, class_weight = synthetic_predictions(args.seed, args.examples, args.classes)
    result = keras_loss([args.url], probabilities, labels, class_weight, args.chunk_size)
    print(f"class weights: {class_weight}")
    print(f"keras sum_over_batch_size: {result.loss!r}")
    print(f"torch-style weighted mean: {result.reductions['mean']!r}")
    for warning in result.warnings:
        print(f"warning {warning['code']}: {warning['message']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
