"""Token classification (NER-style tagging) with -100 padding: mean loss over the real tokens.

Logits are rank 3, ``(sentences, tokens, tags)``, channels-last; padding positions carry the label
-100 and count for nothing. The dataset is evaluated in chunks of sentences and the chunks are
combined exactly, so the result equals one request over everything. The equivalent PyTorch call
(class axis moved to dim 1, as PyTorch wants it)::

    torch.nn.functional.cross_entropy(
        torch.from_numpy(logits).permute(0, 2, 1), torch.from_numpy(labels), ignore_index=-100
    )

and in Keras ``keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100)``
(its default "sum_over_batch_size" is the same number here: every counted token has weight 1).

From the repository's root, after the README's install and with a server running (the output
below is checked by tests/docs/test_doc_outputs.py)::

    $ .venv/bin/python examples/token_classification.py --url http://127.0.0.1:8000
    sentences: 200 in 4 requests
    tokens counted: 3221 of 6400 (padding ignored)
    mean token loss: 1.087457333365671
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import numpy.typing as npt

from service.evaluate import Dataset, Evaluation, RequestOptions, evaluate

PAD = -100


def synthetic_batch(
    seed: int, sentences: int, max_tokens: int, tags: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Random sentence lengths; the tagger's logits favour the right tag; padding is -100."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, tags, size=(sentences, max_tokens))
    lengths = rng.integers(1, max_tokens + 1, size=sentences)
    labels[np.arange(max_tokens) >= lengths[:, None]] = PAD
    logits = rng.normal(size=(sentences, max_tokens, tags))
    rows, cols = np.nonzero(labels != PAD)
    logits[rows, cols, labels[rows, cols]] += 2.0
    return logits.astype(np.float32), labels


def token_loss(
    urls: list[str], logits: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], chunk: int
) -> Evaluation:
    return evaluate(
        Dataset(logits, labels),
        urls,
        options=RequestOptions(reduction="mean", ignore_index=PAD),
        chunk_size=chunk,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--sentences", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--tags", type=int, default=9)
    parser.add_argument("--chunk-size", type=int, default=64, help="sentences per request")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logits, labels = synthetic_batch(args.seed, args.sentences, args.max_tokens, args.tags)
    result = token_loss([args.url], logits, labels, args.chunk_size)
    print(f"sentences: {args.sentences} in {result.chunks} requests")
    print(f"tokens counted: {result.totals.count} of {labels.size} (padding ignored)")
    print(f"mean token loss: {result.loss!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
