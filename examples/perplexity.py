"""Language-model perplexity over a corpus, evaluated in chunks: exp of the combined mean NLL.

Each chunk returns ``loss_sum`` (Σ token NLL) and ``weight_sum`` (tokens counted); the corpus
perplexity is ``exp(Σ loss_sum / Σ weight_sum)``. Averaging per-chunk means (or per-chunk
perplexities) would be wrong whenever chunks hold different numbers of real tokens. The
equivalent PyTorch computation over the whole corpus at once::

    nll = torch.nn.functional.cross_entropy(
        logits.reshape(-1, vocab), targets.reshape(-1), ignore_index=-100, reduction="sum"
    )
    perplexity = torch.exp(nll / (targets != -100).sum())

(HF ``evaluate``'s ``mean_perplexity`` is the mean of per-sequence perplexities, a different
number.) Targets are the next tokens; the last position of every sequence and the padding are -100.

From the repository's root, after the README's install and with a server running (the output
below is checked by tests/docs/test_doc_outputs.py)::

    $ .venv/bin/python examples/perplexity.py --url http://127.0.0.1:8000
    sequences: 64, predicted tokens: 1434
    corpus perplexity: 13.68740843770591
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
import numpy.typing as npt

from service.evaluate import Dataset, RequestOptions, evaluate

PAD = -100


def synthetic_corpus(
    seed: int, sequences: int, length: int, vocab: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """Token sequences from a random bigram model; logits are that model's log-probabilities."""
    rng = np.random.default_rng(seed)
    bigram_logits = rng.normal(scale=2.0, size=(vocab, vocab))
    bigram = np.exp(bigram_logits - bigram_logits.max(axis=1, keepdims=True))
    bigram /= bigram.sum(axis=1, keepdims=True)
    tokens = np.zeros((sequences, length), dtype=np.int64)
    tokens[:, 0] = rng.integers(0, vocab, size=sequences)
    for t in range(1, length):
        tokens[:, t] = [rng.choice(vocab, p=bigram[previous]) for previous in tokens[:, t - 1]]
    lengths = rng.integers(2, length + 1, size=sequences)
    targets = np.full_like(tokens, PAD)
    targets[:, :-1] = tokens[:, 1:]
    targets[np.arange(length) >= (lengths - 1)[:, None]] = PAD
    return bigram_logits[tokens].astype(np.float32), targets


def corpus_perplexity(
    urls: list[str], logits: npt.NDArray[np.floating], targets: npt.NDArray[np.integer], chunk: int
) -> float:
    result = evaluate(
        Dataset(logits, targets),
        urls,
        options=RequestOptions(reduction="mean", ignore_index=PAD),
        chunk_size=chunk,
    )
    if result.loss is None:
        raise ValueError("the corpus has no counted tokens")
    return math.exp(result.loss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--sequences", type=int, default=64)
    parser.add_argument("--length", type=int, default=48)
    parser.add_argument("--vocab", type=int, default=50)
    parser.add_argument("--chunk-size", type=int, default=16, help="sequences per request")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    logits, targets = synthetic_corpus(args.seed, args.sequences, args.length, args.vocab)
    perplexity = corpus_perplexity([args.url], logits, targets, args.chunk_size)
    print(f"sequences: {args.sequences}, predicted tokens: {int((targets != PAD).sum())}")
    print(f"corpus perplexity: {perplexity!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
