"""MixUp, CutMix and MaxNumBoundingBoxes against real Keras 3.15 (torch backend), on
image tensors as a model's layers get them (`mixing_outputs.json`, `gen_mixing.py`):
shapes and counts; the inference identity; Keras's own `transform_images` for the same
permutation, mix weights and boxes (the differential test); Cornu's random draws
against the deciles of Keras's; properties of the mixing; Keras's configs and files;
and a model holding them trains."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

import cornu
from cornu.core.engine import train_job
from cornu.core.engine.build import build_model
from cornu.core.engine.layers import Layer, ShapeError
from cornu.core.spec import JobSpec, keras_files
from cornu.core.spec.keras_config import from_keras, model_spec, to_keras
from cornu.core.spec.keras_config.layers import layer_config
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers.keras_reference import build_one
from tests.core.spec.keras_zoo import MIXING, keras_or_skip, same_json, shapes_of

DATA = Path(__file__).parents[3] / "data" / "keras" / "mixing_outputs.json"
REFERENCE = json.loads(DATA.read_text())
CASES: dict[str, Any] = REFERENCE["cases"]
DRAWS: dict[str, Any] = REFERENCE["draws"]
CONFIGS: dict[str, Any] = REFERENCE["configs"]


def case_layer(case_id: str) -> tuple[Layer, torch.Tensor]:
    case = CASES[case_id]
    x = torch.tensor(case["input"], dtype=torch.float32)
    return build_one(case["layer"], tuple(x.shape[1:])), x


def close(actual: torch.Tensor, values: Any) -> None:
    expected = torch.tensor(values, dtype=torch.float32)
    torch.testing.assert_close(actual.float(), expected, rtol=1e-5, atol=1e-5)


def cornu_draw(case_id: str) -> Any:
    """The draw Keras was given, in the form Cornu's `transform_images` takes."""
    case = CASES[case_id]
    if case["layer"]["type"] == "MaxNumBoundingBoxes":
        return None
    permutation, parameters = case["draw"]
    return torch.tensor(permutation), torch.tensor(parameters, dtype=torch.float32)


@pytest.mark.parametrize("case_id", list(CASES))
def test_shapes_counts_and_weight_names_match_keras(case_id: str) -> None:
    layer, _ = case_layer(case_id)
    case = CASES[case_id]
    assert list(layer.output_shape) == case["output_shape"]
    assert layer.count_params() == (case["params"], 0) == (0, 0)
    assert list(layer.keras_weights()) == case["weights"] == []


@pytest.mark.parametrize("case_id", list(CASES))
def test_inference_is_the_identity_as_in_keras(case_id: str) -> None:
    layer, x = case_layer(case_id)
    out = layer.eval()(x)
    close(out, CASES[case_id]["inference"])
    assert torch.equal(out, x) and out.dtype == torch.float32


@pytest.mark.parametrize("case_id", [k for k in CASES if not k.startswith("max_num")])
def test_training_transforms_match_keras_for_the_same_draw(case_id: str) -> None:
    """Keras's `transform_images` with a permutation (with a fixed point, and one image
    paired both ways) and mix weights or boxes (fractional, whole-image, empty, off the
    last column) that Cornu's `transform_images` gets too."""
    layer, x = case_layer(case_id)
    out = layer.train().transform_images(x, cornu_draw(case_id))  # type: ignore[operator]
    close(out, CASES[case_id]["training"])
    assert not torch.equal(out, x)  # the draws above all change something


@pytest.mark.parametrize("case_id", ["max_num_boxes", "max_num_boxes_fill"])
def test_max_num_bounding_boxes_returns_images_unchanged_in_training(case_id: str) -> None:
    layer, x = case_layer(case_id)
    out = layer.train()(x)
    close(out, CASES[case_id]["training"])
    assert out is x  # Keras's `transform_images` returns its input
    ids = torch.arange(24).view(2, 3, 4)  # (H, W) images keep their dtype, as in Keras
    assert build_one({"type": "MaxNumBoundingBoxes", "max_number": 1}, (3, 4))(ids) is ids


def test_cut_mix_label_weight_is_the_share_keras_computes() -> None:
    """Keras's label weight is one minus the box's real area over the image's (the
    boxes Cornu draws give it; no labels reach a model's layers to use it)."""
    case = CASES["cut_mix"]
    boxes = np.array(case["draw"][1])
    height, width = np.shape(case["input"])[1:3]
    share = (boxes[:, 1] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 2]) / (height * width)
    np.testing.assert_allclose(1 - share, np.ravel(case["label_weight"]), atol=1e-6)


# -- the random draws: Keras's distribution ----------------------------------------------


def _deciles(values: torch.Tensor) -> np.ndarray:
    return np.quantile(values.numpy(), np.linspace(0.1, 0.9, 9))


def _cornu_draws(spec: dict[str, Any], batches: int = 400) -> list[tuple[torch.Tensor, ...]]:
    torch.manual_seed(5)
    layer = build_one(spec, (6, 8, 1))
    x = torch.zeros(50, 6, 8, 1)
    return [layer.draw(x) for _ in range(batches)]  # type: ignore[operator]


def _label_weights(boxes: torch.Tensor) -> torch.Tensor:
    return 1 - (boxes[:, 1] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 2]) / (6 * 8)


@pytest.mark.parametrize("key", [k for k in DRAWS if k.startswith("mix_up")])
def test_mix_up_weights_follow_kerass_beta(key: str) -> None:
    draws = _cornu_draws(DRAWS[key]["layer"])
    weights = torch.cat([w for _, w in draws])
    assert float(weights.min()) >= 0.0 and float(weights.max()) <= 1.0
    np.testing.assert_allclose(_deciles(weights), DRAWS[key]["deciles"], atol=0.03)


@pytest.mark.parametrize("key", [k for k in DRAWS if k.startswith("cut_mix")])
def test_cut_mix_areas_follow_kerass_draws(key: str) -> None:
    """The pasted area's share over all images, and its spread within each batch (one
    Beta concentration per batch, as Keras draws it)."""
    weights = [_label_weights(boxes) for _, boxes in _cornu_draws(DRAWS[key]["layer"])]
    np.testing.assert_allclose(_deciles(torch.cat(weights)), DRAWS[key]["deciles"], atol=0.04)
    spreads = torch.stack([w.var(unbiased=False) for w in weights])
    np.testing.assert_allclose(_deciles(spreads), DRAWS[key]["batch_variance_deciles"], atol=0.02)


def test_draws_pair_images_by_a_permutation_and_keep_boxes_inside() -> None:
    torch.manual_seed(3)
    x = torch.zeros(64, 9, 13, 1)
    for spec in ({"type": "MixUp"}, {"type": "CutMix"}):
        permutation, _ = build_one(spec, (9, 13, 1)).draw(x)  # type: ignore[operator]
        assert torch.equal(permutation.sort().values, torch.arange(64))
        assert not torch.equal(permutation, torch.arange(64))
    _, boxes = build_one({"type": "CutMix"}, (9, 13, 1)).draw(x)  # type: ignore[operator]
    x0, x1, y0, y1 = boxes.T
    assert bool(((0 <= x0) & (x0 <= x1) & (x1 <= 13) & (0 <= y0) & (y0 <= y1) & (y1 <= 9)).all())
    # sides sqrt(1 - w) of the image's, the same share of its width and of its height
    torch.testing.assert_close((x1 - x0) / 13, (y1 - y0) / 9)


# -- what mixing does to a batch --------------------------------------------------------

N = 12
ONE_HOT = torch.eye(N).view(N, 1, 1, N).expand(N, 7, 9, N).contiguous()  # image i: e_i


def test_mix_up_blends_each_image_with_its_partner_in_the_permutation() -> None:
    torch.manual_seed(0)
    out = build_one({"type": "MixUp", "alpha": 1.0}, (7, 9, N)).train()(ONE_HOT)
    assert torch.equal(out, out[:, :1, :1].expand_as(out))  # one blend per whole image
    pixel = out[:, 0, 0]  # (N, N): row i is w e_i + (1 - w) e_p(i)
    torch.testing.assert_close(pixel.sum(1), torch.ones(N))
    partners = [
        int(j) for i, row in enumerate(pixel) for j in row.nonzero().flatten() if int(j) != i
    ]
    assert len(partners) == len(set(partners)) > 0  # each image lends to one other at most
    assert all(int((row > 0).sum()) <= 2 for row in pixel)


def test_cut_mix_pastes_one_rectangle_of_one_other_image() -> None:
    torch.manual_seed(1)
    out = build_one({"type": "CutMix"}, (7, 9, N)).train()(ONE_HOT)
    pasted = 0
    for i in range(N):
        own = out[i].argmax(-1) == i
        other = out[i][~own].argmax(-1).unique()
        assert torch.equal(out[i].sum(-1), torch.ones(7, 9)) and len(other) <= 1
        rows, cols = (~own).any(1).nonzero().flatten(), (~own).any(0).nonzero().flatten()
        if len(rows):
            pasted += 1
            block = ~own[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert bool(block.all()) and int(block.sum()) == int((~own).sum())  # a rectangle
    assert pasted > 0


@pytest.mark.parametrize("spec", [{"type": "MixUp"}, {"type": "CutMix"}])
def test_mixing_happens_only_while_training_and_passes_gradients(spec: dict[str, Any]) -> None:
    layer = build_one(spec, (7, 9, N))
    torch.manual_seed(2)
    assert not torch.equal(layer.train()(ONE_HOT), ONE_HOT)
    assert torch.equal(layer.eval()(ONE_HOT), ONE_HOT)
    x = torch.rand(4, 7, 9, N, requires_grad=True)
    layer.train()(x).sum().backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad.sum(), torch.tensor(float(x.numel())))


# -- arguments, shapes, configs ----------------------------------------------------------


def test_keras_defaults() -> None:
    assert parse_layer({"type": "MixUp"}).alpha == 0.2  # type: ignore[attr-defined]
    assert parse_layer({"type": "CutMix"}).factor == [0.0, 1.0]  # type: ignore[attr-defined]
    assert parse_layer({"type": "CutMix", "factor": 0.3}).factor == [0.0, 0.3]  # type: ignore[attr-defined]
    boxes = parse_layer({"type": "MaxNumBoundingBoxes", "max_number": 4})
    assert boxes.fill_value == -1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "MixUp", "alpha": 0.0}, "greater than 0"),
        ({"type": "CutMix", "factor": 1.5}, "in \\[0.0, 1.0\\]"),
        ({"type": "CutMix", "factor": [-0.5, 0.5]}, "lower bound must be at least 0"),
        ({"type": "MaxNumBoundingBoxes"}, "max_number"),
        ({"type": "MaxNumBoundingBoxes", "max_number": -2}, "greater than or equal to 0"),
        ({"type": "MixUp", "data_format": "channels_first"}, "channels_last"),
    ],
)
def test_arguments_keras_cannot_run_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer(spec)


@pytest.mark.parametrize(
    ("spec", "input_shape"),
    [
        ({"type": "MixUp"}, (8, 8)),
        ({"type": "CutMix"}, (4, 8, 8, 3)),
        ({"type": "MaxNumBoundingBoxes", "max_number": 2}, (8,)),
    ],
)
def test_inputs_that_are_not_images_are_shape_errors(
    spec: dict[str, Any], input_shape: tuple[int, ...]
) -> None:
    with pytest.raises(ShapeError, match="height, width"):
        build_one(spec, input_shape)


def test_sdk_takes_kerass_positional_arguments() -> None:
    assert cornu.layers.MixUp(0.3).get_config()["alpha"] == 0.3
    assert cornu.layers.CutMix(0.5, 7).get_config()["seed"] == 7
    boxes = cornu.layers.MaxNumBoundingBoxes(3, 9).get_config()
    assert (boxes["max_number"], boxes["fill_value"]) == (3, 9)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "MixUp"},
        {"type": "CutMix", "factor": 0.3},
        {"type": "MaxNumBoundingBoxes", "max_number": 4, "fill_value": 9},
    ],
)
def test_configs_are_kerass(spec: dict[str, Any]) -> None:
    """What Cornu writes is Keras's `get_config`, and Keras's constructor takes it back;
    MaxNumBoundingBoxes's `fill_value`, which Keras does not write, is written when
    it is not -1."""
    keras = keras_or_skip()
    layer = parse_layer(spec)
    expected = CONFIGS[spec["type"]]
    written = layer_config(layer, expected["name"])
    if spec["type"] == "MaxNumBoundingBoxes":
        assert written.pop("fill_value") == 9
        assert (
            getattr(keras.layers, spec["type"]).from_config({**written, "fill_value": 9}).fill_value
            == 9
        )
    assert same_json(written, expected)
    entries = [{"class_name": "InputLayer", "config": {"batch_shape": [None, 5, 6, 3]}},
               {"class_name": spec["type"], "config": expected}]  # fmt: skip
    model = model_spec(from_keras({"class_name": "Sequential", "config": {"layers": entries}}))
    read = model.layers[-1]
    kept = {**spec, "fill_value": -1} if "fill_value" in spec else spec  # Keras's file: -1
    assert read == parse_layer({**kept, "name": expected["name"], "data_format": "channels_last"})


# -- models: Keras files, the labels, fit ----------------------------------------------


def test_keras_loads_the_model_cornu_writes_and_predicts_the_same(tmp_path: Path) -> None:
    keras = keras_or_skip()
    parsed = model_spec(MIXING)
    written = to_keras(parsed, shapes_of(parsed))
    model = keras.models.model_from_json(json.dumps(written))
    assert same_json(json.loads(model.to_json()), written)
    ours = build_model(parsed).eval()
    weights = {k: v.detach().numpy() for k, v in ours.keras_weights().items()}
    path = tmp_path / "mixing.keras"
    keras_files.save_model(path, parsed, weights, shapes=shapes_of(parsed))
    loaded = keras.models.load_model(path)
    x = torch.rand(5, 6, 7, 3) * 255
    with torch.no_grad():
        (out,) = ours(x)
    np.testing.assert_allclose(loaded.predict(x.numpy(), verbose=0), out.numpy(), atol=1e-4)
    again = model_spec(from_keras(json.loads(loaded.to_json())))
    ignored = {"name", "data_format"}  # Keras names its layers and writes channels_last
    assert [layer.model_dump(exclude=ignored) for layer in again.layers[:4]] == [
        layer.model_dump(exclude=ignored) for layer in parsed.layers[:4]
    ]  # Input, MixUp, CutMix, MaxNumBoundingBoxes


def test_a_keras_model_that_takes_labels_into_mix_up_is_refused_clearly() -> None:
    """Keras mixes labels inside a model only when the layer is given a dict of images
    and labels (labels as a model input); Cornu's graphs have no dict-valued tensors."""
    keras = keras_or_skip()
    images, labels = keras.Input((5, 6, 3)), keras.Input((10,))
    mixed = keras.layers.MixUp()({"images": images, "labels": labels})
    model = keras.Model([images, labels], [mixed["images"], mixed["labels"]])
    name = model.layers[-1].name
    with pytest.raises(PydanticCustomError, match=f"layer '{name}' is called on a value that"):
        model_spec(from_keras(json.loads(model.to_json())))


def _stripes(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 8 x 8 images: bright rows at the top, middle or bottom."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.uniform(0, 0.3, (n, 8, 8, 1)).astype(np.float32)
    for i, label in enumerate(y):
        x[i, 3 * label : 3 * label + 2] += 1.0
    return x, y


@pytest.mark.parametrize("kind", ["MixUp", "CutMix"])
def test_a_model_with_mixing_trains(kind: str) -> None:
    x, y = _stripes(600, 0)
    vx, vy = _stripes(150, 1)
    spec = JobSpec.model_validate(
        {
            "model": {
                "layers": [
                    {"type": "Input", "shape": [8, 8, 1]},
                    {"type": kind},
                    {"type": "MaxNumBoundingBoxes", "max_number": 4},
                    {"type": "Flatten"},
                    {"type": "Dense", "units": 3, "activation": "softmax"},
                ]
            },
            "compile": {
                "optimizer": {"type": "adam", "learning_rate": 0.01},
                "loss": "sparse_categorical_crossentropy",
                "metrics": ["accuracy"],
            },
            "fit": {
                "epochs": 6,
                "batch_size": 32,
                "seed": 0,
                "validation_data": {"x": "vx", "y": "vy"},
            },  # fmt: skip
            "data": {"x": "x", "y": "y"},
        }
    )
    history = train_job(spec, {"x": x, "y": y, "vx": vx, "vy": vy}).history.history
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] > 0.9
    # mixed inputs with unmixed labels: the training loss stays above the clean one
    assert history["loss"][-1] > history["val_loss"][-1]
