"""`loss-service evaluate --focal-gamma --focal-alpha --pos-weight` on multi-label data, over /v1 and V2,
against the float64 reference of the whole dataset."""

from __future__ import annotations

import httpx
import numpy as np
import pytest
from reference import binary_reference

from service.evaluate import Dataset, RequestOptions, evaluate
from service.evaluate.cli import build_parser
from service.main import create_app

RNG = np.random.default_rng(11)
LOGITS = RNG.normal(size=(23, 4)) * 3
LABELS = (RNG.random((23, 4)) < 0.3).astype(np.float64)
POS_WEIGHT = (2.0, 0.5, 1.0, 3.0)


@pytest.mark.parametrize("protocol", ["v1", "v2"])
def test_focal_and_pos_weight_combine_exactly(protocol: str) -> None:
    options = RequestOptions(focal_gamma=2.0, focal_alpha=0.25, pos_weight=POS_WEIGHT)
    result = evaluate(
        Dataset(LOGITS, LABELS),
        ["http://service"],
        options=options,
        mode="binary",
        chunk_size=5,
        transport=httpx.ASGITransport(app=create_app()),
        protocol=protocol,
    )
    expected = binary_reference.binary(
        LOGITS, LABELS, focal_gamma=2.0, focal_alpha=0.25, pos_weight=list(POS_WEIGHT)
    )
    assert result.loss == pytest.approx(expected.loss_sum / expected.weight_sum, rel=1e-12)
    assert result.totals.count == 23


def test_the_flags_reach_the_request_options() -> None:
    args = build_parser().parse_args(
        [
            "data.npz",
            "--url",
            "http://x",
            "--focal-gamma",
            "2",
            "--focal-alpha",
            "0.25",
            "--pos-weight",
            "1,2",
        ]
    )
    assert (args.focal_gamma, args.focal_alpha, args.pos_weight) == (2.0, 0.25, (1.0, 2.0))
