"""semantics-binary-metrics.md §A, §B and §D vectors as contract request bodies, with the libraries' numbers.

Every expected value is a float64 number published by torch, torchvision, TF, optax, sklearn or Keras on
the TensorFlow backend (the only Keras backend computing in float64), never an output of the code under
test. Library reductions map to the contract's fields as the contract says: torch `mean` = `mean`; torch
`sum` = `sum` with `axis: null` (= C × `sum`); torch `none` = `losses` with `axis: null`; Keras
`sum_over_batch_size` / `sum` / `none` = the same names with the default axis; Keras
`mean_with_sample_weight` = `mean`.
"""

from __future__ import annotations

import math

from .vectors import Vector

# float64 libraries against a float64 reference: only summation order differs.
REL = 1e-12

A1_X = [[2.0], [-1.0], [0.5], [-3.0]]
A1_Y = [[1.0], [0.0], [0.0], [1.0]]
A1_NONE = [0.1269280110429725, 0.3132616875182228, 0.9740769841801067, 3.048587351573742]
A2_X = [[1.5, -0.5, 0.0], [-2.0, 3.0, 0.7]]
A2_Y = [[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
A3_Y = [[0.3, 0.8, 0.5], [1.0, 0.1, 0.0]]
A10_Y = [1.0, 0.0, 1.0, 1.0, 0.0]
A10_P = [0.9, 0.1, 0.6, 0.35, 0.5]
A10_W = [1.0, 2.0, 1.0, 0.0, 3.0]
B_X = [[2.0, -1.0, 0.5], [-3.0, 0.0, 4.0]]
B_Y = [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]
D_X = [[1.0, -1.0, 0.5], [0.2, 0.1, -0.3]]
D_Y = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
# A.5: the probabilities row, each element paired with its label, as one Keras example of 12 labels.
A9_P = [0.9, 0.2, 1.0, 1.0, 0.0, 0.0, 1e-09, 1e-09, 0.5, 0.999999999, 1e-07, 1e-30]
A9_Y = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0]
A9_KERAS = [
    0.10536051565782628,
    0.2231435513142097,
    1.0000000494736474e-07,
    16.118095651484676,
    16.11809565095832,
    1.0000000494736474e-07,
    16.11809565095832,
    1.0000000494736474e-07,
    0.6931471805599453,
    1.0000000494736474e-07,
    16.11809565095832,
    16.11809565095832,
]


CF_LOGITS = [[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]
CF1_P = [[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]]
CF1_LOSSES = [0.00026340128914456557, 0.6759120942206192]
CF3_P = [[0.2, 0.6, 0.4], [0.5, 0.25, 0.25]]
CF3_LOSSES = [0.05487149834502257, 0.05343009516816245]
FOCAL = {"focal_gamma": 2.0, "focal_alpha": 0.25}


def _sigmoid(rows: list[list[float]]) -> list[list[float]]:
    return [[1.0 / (1.0 + math.exp(-x)) for x in row] for row in rows]


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


BINARY_VECTORS = [
    Vector(
        "A1-torch",
        "binary",
        {"logits": A1_X, "labels": A1_Y, "axis": None},
        {"mean": 1.115713508578761, "sum": 4.462854034315044},
        losses=[[v] for v in A1_NONE],
        rel=REL,
    ),
    Vector(
        "A1-keras",
        "binary",
        {"logits": A1_X, "labels": A1_Y},
        {"sum_over_batch_size": 1.1157135085787608, "sum": 4.462854034315043, "mean": 1.1157135085787608},
        losses=A1_NONE,
        rel=REL,
    ),
    Vector(
        "A1-probabilities",
        "binary",
        {"probabilities": _sigmoid(A1_X), "labels": A1_Y},
        {"mean": 1.115713508578761},
        rel=1e-9,  # σ(x) rounded to float64, then log: a few ulps of the logit path
    ),
    Vector(
        "A2-torch",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "axis": None},
        {"mean": 0.32455647570416285, "sum": 1.9473388542249772},
        losses=[
            [0.2014132779827524, 0.4740769841801067, 0.6931471805599453],
            [0.1269280110429725, 0.04858735157374206, 0.4031860488854579],
        ],
        rel=REL,
    ),
    Vector(
        "A2-keras",
        "binary",
        {"logits": A2_X, "labels": A2_Y},
        {"sum_over_batch_size": 0.3245564757041628, "sum": 0.6491129514083256, "mean": 0.3245564757041628},
        losses=[0.4562124809076014, 0.19290047050072415],
        rel=REL,
    ),
    Vector(
        "A3-soft",
        "binary",
        {"logits": A2_X, "labels": A3_Y},
        {"sum_over_batch_size": 1.4662231423708296, "sum": 2.9324462847416592},
        losses=[0.9395458142409349, 1.9929004705007245],
        rel=REL,
    ),
    Vector(
        "A4-smoothing",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "label_smoothing": 0.1},
        {"sum_over_batch_size": 0.38872314237082944},
        losses=[0.4895458142409348, 0.2879004705007241],
        rel=REL,
    ),
    Vector(
        "A5-pos-weight",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "pos_weight": [3.0, 0.5, 1.0], "axis": None},
        {"mean": 0.3876452890672684, "sum": 2.3258717344036106},
        losses=[
            [0.6042398339482572, 0.4740769841801067, 0.6931471805599453],
            [0.1269280110429727, 0.02429367578687103, 0.4031860488854579],
        ],
        rel=REL,
    ),
    Vector(
        "A6-class-weight-torch",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "class_weight": [1.0, 2.0, 0.5], "axis": None},
        {"mean": 0.3203060958760207, "sum": 1.9218365752561244},
        losses=[
            [0.2014132779827524, 0.9481539683602134, 0.34657359027997264],
            [0.1269280110429727, 0.09717470314748412, 0.20159302444272895],
        ],
        rel=REL,
    ),
    Vector(
        "A6-class-weight-torch-mean",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "class_weight": [1.0, 2.0, 0.5]},
        {"mean": 0.3203060958760207},
        rel=REL,
    ),
    Vector(
        "A6-sample-weight-keras",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "sample_weight": [2.0, 0.5]},
        {"sum_over_batch_size": 0.5044375985327825, "sum": 1.008875197065565, "mean": 0.40355007882622596},
        losses=[0.9124249618152028, 0.09645023525036207],
        rel=REL,
    ),
    Vector(
        "A6-zero-weight-keras",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "sample_weight": [1.0, 0.0]},
        {"sum_over_batch_size": 0.2281062404538007, "sum": 0.4562124809076014, "mean": 0.4562124809076014},
        losses=[0.4562124809076014, 0.0],
        rel=REL,
    ),
    Vector(
        "A6-sample-weight-torch",
        "binary",
        {"logits": A2_X, "labels": A2_Y, "sample_weight": [[2.0], [0.5]], "axis": None},
        {"sum_over_batch_size": 0.5044375985327826, "sum": 3.0266255911966953},
        losses=[
            [0.4028265559655048, 0.9481539683602134, 1.3862943611198906],
            [0.06346400552148634, 0.02429367578687103, 0.20159302444272895],
        ],
        rel=REL,
    ),
    Vector(
        "A8-extremes",
        "binary",
        {
            "logits": [40.0, -40.0, -10000.0, 3.4e38, -3.4e38, 20.0, -17.0],
            "labels": [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0],
        },
        {},
        losses=[
            4.248354255291589e-18,
            4.248354255291589e-18,
            10000.0,
            3.4e38,
            3.4e38,
            2.061153620314381e-09,
            4.139937633089748e-08,
        ],
        rel=REL,
    ),
    Vector(
        # TF weighted_cross_entropy_with_logits q=2 (torch pos_weight=2) at y=1; at x=−40, y=0 both return
        # 0.0 where the true value, the contract's, is 4.25e-18 (the plain BCE term: q only scales y·…).
        "A8-pos-weight",
        "binary",
        {"logits": [-40.0, 17.0, -20.0, -40.0], "labels": [1.0, 1.0, 1.0, 0.0], "pos_weight": [2.0]},
        {},
        losses=[80.0, 8.279875266179494e-08, 40.000000004122306, 4.248354255291589e-18],
        rel=REL,
    ),
    Vector(
        "A9-keras-clip",
        "binary",
        {"probabilities": [A9_P], "labels": [A9_Y], "axis": None},
        {},
        losses=[A9_KERAS],
        rel=1e-9,  # log(1 − p) vs log1p(−p) at the clip: a few ulps
    ),
    Vector(
        "A9-keras-row",
        "binary",
        {"probabilities": [A9_P], "labels": [A9_Y]},
        {"sum_over_batch_size": 6.801010825237495},
        rel=1e-9,
    ),
    Vector(
        "A10-sklearn",
        "binary",
        {"probabilities": A10_P, "labels": A10_Y},
        {"mean": 0.49290319202805327, "sum": 2.4645159601402664},
        rel=REL,
    ),
    Vector(
        "A10-weighted",
        "binary",
        {"probabilities": A10_P, "labels": A10_Y, "sample_weight": A10_W},
        # sklearn log_loss(sample_weight=w); torch weight=w 'mean' = Keras [5, 1] sum_over_batch_size
        {"mean": 0.4151926732027579, "sum_over_batch_size": 0.5812697424838611},
        rel=REL,
    ),
    Vector(
        "A10-logits",
        "binary",
        {"logits": [_logit(p) for p in A10_P], "labels": A10_Y},
        {"mean": 0.49290319202805327},
        rel=1e-9,
    ),
    Vector(
        "D-multi-hot-torch",
        "binary",
        {"logits": D_X, "labels": D_Y, "axis": None},
        {"mean": 0.5162485221900404, "sum": 3.097491133140242},
        losses=[
            [0.31326168751822286, 0.3132616875182228, 0.4740769841801067],
            [0.7981388693815918, 0.6443966600735709, 0.5543552444685271],
        ],
        rel=REL,
    ),
    Vector(
        "D-multi-hot-keras",
        "binary",
        {"logits": D_X, "labels": D_Y},
        {"sum_over_batch_size": 0.5162485221900404, "sum": 1.0324970443800807, "mean": 0.5162485221900404},
        losses=[0.36686678640551745, 0.6656302579745633],
        rel=REL,
    ),
]

FOCAL_VECTORS = [
    Vector(
        "B1-torchvision",
        "binary",
        {"logits": B_X, "labels": B_Y, "axis": None, "focal_gamma": 2.0, "focal_alpha": 0.25},
        {"mean": 0.6569292286656735, "sum": 3.9415753719940407},
        losses=[
            [0.00045089070881009483, 0.016993543131350493, 0.28305870064455735],
            [0.6915701102563155, 0.04332169878499658, 2.9061804284680104],
        ],
        rel=1e-11,
    ),
    Vector(
        "B1-keras-balanced",
        "binary",
        {"logits": B_X, "labels": B_Y, "focal_gamma": 2.0, "focal_alpha": 0.25},
        {"sum_over_batch_size": 0.6569292286656735, "sum": 1.313858457331347},
        losses=[0.100167711494906, 1.213690745836441],
        rel=1e-11,
    ),
    Vector(
        "B1-no-alpha",
        "binary",
        {"logits": B_X, "labels": B_Y, "focal_gamma": 2.0},
        {"mean": 1.2027246158876188},
        rel=1e-11,
    ),
    Vector(
        "B2-gamma0",
        "binary",
        {"logits": B_X, "labels": B_Y, "focal_gamma": 0.0},
        {"mean": 1.5290251904654664},
        losses=[0.471422227580434, 2.586628153350499],
        rel=REL,
    ),
    Vector(
        "B2-gamma0-alpha",
        "binary",
        {"logits": B_X, "labels": B_Y, "focal_gamma": 0.0, "focal_alpha": 0.25},
        {"mean": 0.8243803475843782},
        rel=REL,
    ),
    Vector(
        "B3-smoothing",
        "binary",
        {
            "logits": B_X,
            "labels": B_Y,
            "axis": None,
            "focal_gamma": 2.0,
            "focal_alpha": 0.25,
            "label_smoothing": 0.1,
        },
        {"mean": 0.5663209086161468},
        losses=[
            [0.0015437690319448918, 0.0224628021513672, 0.25621404090234356],
            [0.6562010322306254, 0.04765386866349623, 2.4138499387171035],
        ],
        rel=1e-11,
    ),
    Vector(
        # optax's numbers: torchvision's own 1 − p_t cancels in the 2e-27 elements (§E).
        "B4-extremes",
        "binary",
        {
            "logits": [20.0, -20.0, 100.0, -100.0, 5.0],
            "labels": [1.0, 0.0, 0.0, 1.0, 0.0],
            "focal_gamma": 2.0,
            "focal_alpha": 0.25,
        },
        {},
        losses=[2.1891276793938117e-27, 6.567383038181435e-27, 75.0, 25.0, 3.704940916252561],
        rel=1e-11,
    ),
    Vector(
        "B5-probabilities",
        "binary",
        {
            "probabilities": _sigmoid(B_X),
            "labels": B_Y,
            "axis": None,
            "focal_gamma": 0.5,
            "focal_alpha": 0.75,
        },
        {"mean": 0.6433719158275997},
        losses=[
            [0.03286716074340337, 0.040614035088874886, 0.19212716807555397],
            [2.2315637472376437, 0.3675968038007052, 0.9954625800194173],
        ],
        rel=1e-9,
    ),
    # Keras CategoricalFocalCrossentropy (always α; the list α of CF2 is a per-class weight here).
    Vector(
        "CF1",
        "categorical",
        {
            "probabilities": CF1_P,
            "labels": [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
            **FOCAL,
        },
        {"sum_over_batch_size": 0.3380877477548819},
        losses=CF1_LOSSES,
        rel=1e-11,
    ),
    Vector(
        "CF1-sparse",
        "sparse",
        {
            "probabilities": CF1_P,
            "labels": [1, 2],
            **FOCAL,
        },
        {"sum_over_batch_size": 0.3380877477548819},
        losses=CF1_LOSSES,
        rel=1e-11,
    ),
    Vector(
        "CF2",
        "categorical",
        {
            "logits": CF_LOGITS,
            "labels": [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            "class_weight": [0.25, 0.5, 0.25],
            "focal_gamma": 2.0,
        },
        {"sum_over_batch_size": 0.4393531139337574},
        losses=[0.012123085851923367, 0.8665831420155915],
        rel=1e-11,
    ),
    Vector(
        "CF2-weighted",
        "categorical",
        {
            "logits": CF_LOGITS,
            "labels": [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            "class_weight": [0.25, 0.5, 0.25],
            "focal_gamma": 2.0,
            "sample_weight": [2.0, 0.5],
        },
        {"sum_over_batch_size": 0.22876887135582125},
        rel=1e-11,
    ),
    Vector(
        "CF3-smoothing",
        "categorical",
        {
            "probabilities": CF3_P,
            "labels": [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]],
            "label_smoothing": 0.1,
            **FOCAL,
        },
        {"sum_over_batch_size": 0.05415079675659251},
        losses=CF3_LOSSES,
        rel=1e-11,
    ),
    Vector(
        "CF3-sparse",
        "sparse",
        {
            "probabilities": CF3_P,
            "labels": [1, 0],
            "label_smoothing": 0.1,
            **FOCAL,
        },
        {"sum_over_batch_size": 0.05415079675659251},
        losses=CF3_LOSSES,
        rel=1e-11,
    ),
    Vector(
        "CF4-gamma0-alpha1",
        "categorical",
        {
            "logits": CF_LOGITS,
            "labels": [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]],
            "focal_gamma": 0.0,
            "focal_alpha": 1.0,
        },
        {"sum_over_batch_size": 2.035104111700061},
        losses=[0.4170300162778335, 3.6531782071222882],
        rel=REL,
    ),
    Vector(
        "CF5-clip",
        "categorical",
        {
            "probabilities": [[0.0, 0.7, 0.3], [1.0, 0.0, 0.0]],
            "labels": [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
            "focal_gamma": 2.0,
            "focal_alpha": 0.25,
        },
        {"sum_over_batch_size": 2.014761553417419},
        losses=[4.029523106834838, 2.500000121052339e-22],
        rel=1e-9,
    ),
]
