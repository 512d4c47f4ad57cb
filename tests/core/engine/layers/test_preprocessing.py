"""Preprocessing and image augmentation layers against real Keras 3.15 (torch backend):
output shapes, parameter counts and weight names; outputs for the same inputs and
weights; for the random layers, the inference identity and the training transform for
the same draw given to both (`preprocessing_outputs.json`, `gen_preprocessing.py`);
deterministic properties of the random draws; Keras loading what Cornu writes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.build import build_model
from cornu.core.engine.layers import Layer, ShapeError
from cornu.core.engine.layers.preprocessing import affine_transform
from cornu.core.spec import keras_files
from cornu.core.spec.keras_config import model_spec, to_keras
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers.keras_reference import build_one
from tests.core.spec.keras_zoo import (
    COLOURS,
    ENCODER,
    EQUALIZED,
    PIPELINE,
    keras_or_skip,
    same_json,
    shapes_of,
)

DATA = Path(__file__).parents[3] / "data" / "keras" / "preprocessing_outputs.json"
REFERENCE = json.loads(DATA.read_text())
CASES: dict[str, Any] = REFERENCE["cases"]
FIXED = [k for k, c in CASES.items() if "output" in c]
RANDOM = [k for k, c in CASES.items() if "training" in c]


def case_layer(case_id: str) -> tuple[Layer, torch.Tensor]:
    case = CASES[case_id]
    dtype = torch.int64 if case["layer"]["type"] == "CategoryEncoding" else torch.float32
    x = torch.tensor(case["input"], dtype=dtype)
    layer = build_one(case["layer"], tuple(x.shape[1:]))
    weights = layer.keras_weights()
    with torch.no_grad():
        for name, value in case.get("set_weights", {}).items():
            weights[name].copy_(torch.tensor(value))
    return layer, x


def expected(values: Any) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)


def close(actual: torch.Tensor, values: Any) -> None:
    torch.testing.assert_close(actual.float(), expected(values), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("case_id", list(CASES))
def test_shapes_counts_and_weight_names_match_keras(case_id: str) -> None:
    case = CASES[case_id]
    layer, _ = case_layer(case_id)
    assert list(layer.output_shape) == case["output_shape"]
    assert layer.count_params() == (case["params"], 0)  # Keras: all non-trainable
    assert list(layer.keras_weights()) == case["weights"]


@pytest.mark.parametrize("case_id", FIXED)
def test_outputs_match_keras(case_id: str) -> None:
    layer, x = case_layer(case_id)
    out = layer.eval()(x)
    close(out, CASES[case_id]["output"])
    assert out.dtype == torch.float32


@pytest.mark.parametrize("case_id", [k for k in RANDOM if not k.startswith("random_crop")])
def test_random_layers_are_the_identity_at_inference(case_id: str) -> None:
    layer, x = case_layer(case_id)
    out = layer.eval()(x)
    close(out, CASES[case_id]["inference"])
    torch.testing.assert_close(out, x)


def _draw(case_id: str) -> Any:
    """The draw Keras was given, in the form the Cornu layer's `transform_images` takes."""
    case = CASES[case_id]
    return _draw_for(case["layer"], case["draw"])


def _draw_for(layer: dict[str, Any], draw: Any) -> Any:
    kind = layer["type"]
    if kind in ("RandomFlip", "RandomGrayscale"):
        return torch.tensor(draw).view(-1, 1, 1, 1)
    if kind in ("RandomContrast", "RandomBrightness", "RandomColorDegeneration"):
        return expected(draw).view(-1, 1, 1, 1)
    if kind == "RandomCrop":
        return None if draw is None else tuple(draw)
    if kind == "Solarization":
        return tuple(expected(d).view(-1, 1, 1, 1) for d in draw)
    if kind == "RandomInvert":
        return torch.tensor(draw)
    if kind == "RandomPosterization":
        return torch.tensor(draw, dtype=torch.uint8)
    if kind == "RandomGaussianBlur":
        return torch.tensor(draw[0]), expected(draw[1])
    if kind == "RandomPerspective":
        return torch.tensor(draw[0]), expected(draw[1])
    if kind == "RandomErasing":
        return torch.tensor(draw[0]), expected(draw[1]), expected(draw[2])
    if kind == "RandomColorJitter":  # one draw per inner layer, in Keras's order
        parts = parse_layer(layer).parts()  # type: ignore[attr-defined]
        return [_draw_for({"type": p.type}, d) for p, d in zip(parts, draw, strict=True)]
    if kind == "Equalization":
        return None
    return expected(draw)


@pytest.mark.parametrize("case_id", RANDOM)
def test_training_transforms_match_keras_for_the_same_draw(case_id: str) -> None:
    """Flips, rotations, zooms and translations (every fill mode, both interpolations),
    contrast, brightness and crops, with Keras's own `transform_images` as reference."""
    layer, x = case_layer(case_id)
    out = layer.train().transform_images(x, _draw(case_id))  # type: ignore[operator]
    close(out, CASES[case_id]["training"])


def test_random_crop_of_smaller_images_matches_keras_in_training_without_a_draw() -> None:
    layer, x = case_layer("random_crop_smaller")
    close(layer.train()(x), CASES["random_crop_smaller"]["training"])
    close(layer.eval()(x), CASES["random_crop_smaller"]["training"])


def test_random_crop_at_inference_gives_kerass_centred_window() -> None:
    """Keras 3.15 returns the uncropped images at inference (a shape its own
    `compute_output_shape` does not give); Cornu crops the centred window Keras computes."""
    case = CASES["random_crop"]
    layer, x = case_layer("random_crop")
    assert np.shape(case["inference"])[1:3] == (5, 6)
    out = layer.eval()(x)
    assert tuple(out.shape[1:]) == layer.output_shape == (3, 4, 3)
    close(out, case["centred"])


# -- properties of the random draws -----------------------------------------------------

IMAGES = torch.rand(6, 9, 8, 3) * 255


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "RandomRotation", "factor": 0.0},
        {"type": "RandomRotation", "factor": 0.0, "fill_mode": "constant"},
        {"type": "RandomZoom", "height_factor": 0.0},
        {"type": "RandomTranslation", "height_factor": 0.0, "width_factor": 0.0},
        {"type": "RandomContrast", "factor": 0.0},
        {"type": "RandomBrightness", "factor": 0.0},
        {"type": "RandomGrayscale", "factor": 0.0},
        {"type": "RandomInvert", "factor": 0.0},
        {"type": "RandomHue", "factor": 0.0},
        {"type": "RandomColorDegeneration", "factor": 0.0},
        {"type": "RandomShear"},
        {"type": "RandomGaussianBlur", "factor": 0.0},
        {"type": "RandomErasing", "factor": 0.0},
        {"type": "RandomPerspective", "factor": 0.0},
        {"type": "RandomPerspective", "scale": 0.0},
        {"type": "RandomColorJitter"},
        # Keras's sharpness blends by 1 - 2u: u = 0.5 keeps the image
        {"type": "RandomSharpness", "factor": [0.5, 0.5]},
    ],
)
def test_factor_zero_is_the_identity_while_training(spec: dict[str, Any]) -> None:
    layer = build_one(spec, (9, 8, 3)).train()
    torch.testing.assert_close(layer(IMAGES), IMAGES, rtol=1e-5, atol=1e-4)


def test_random_flip_flips_whole_images_on_both_axes_together() -> None:
    layer = build_one({"type": "RandomFlip"}, (9, 8, 3)).train()
    torch.manual_seed(0)
    out = layer(IMAGES.repeat(8, 1, 1, 1))
    both = IMAGES.flip(1).flip(2).repeat(8, 1, 1, 1)
    same = (out == IMAGES.repeat(8, 1, 1, 1)).flatten(1).all(1)
    flipped = (out == both).flatten(1).all(1)
    assert bool((same | flipped).all()) and 0 < int(flipped.sum()) < 48


def test_a_horizontal_flip_of_a_known_image() -> None:
    image = torch.arange(6.0).view(1, 2, 3, 1)
    layer = build_one({"type": "RandomFlip", "mode": "horizontal"}, (2, 3, 1))
    out = layer.transform_images(image, torch.tensor([True]).view(1, 1, 1, 1))  # type: ignore[operator]
    assert out.view(2, 3).tolist() == [[2.0, 1.0, 0.0], [5.0, 4.0, 3.0]]


def test_a_quarter_turn_rotates_a_square_image_exactly() -> None:
    """90 degrees: the rotation Keras's matrix gives (counter-clockwise on screen)."""
    image = torch.arange(9.0).view(1, 3, 3, 1)
    layer = build_one({"type": "RandomRotation", "factor": 0.25}, (3, 3, 1))
    out = layer.transform_images(image, torch.tensor([90.0]))  # type: ignore[operator]
    torch.testing.assert_close(out, torch.rot90(image, 1, dims=(1, 2)), atol=1e-5, rtol=0)


def test_random_draws_stay_in_their_ranges() -> None:
    torch.manual_seed(1)
    x = torch.zeros(4000, 2, 2, 1)
    rotation = build_one({"type": "RandomRotation", "factor": [-0.1, 0.2]}, (2, 2, 1))
    angles = rotation.draw(x)  # type: ignore[operator]
    assert -36.0 <= float(angles.min()) < -30 and 66 < float(angles.max()) <= 72.0
    contrast = build_one({"type": "RandomContrast", "factor": 0.5}, (2, 2, 1))
    c = contrast.draw(x)  # type: ignore[operator]
    assert 1.0 <= float(c.min()) < 1.01 and 1.49 < float(c.max()) <= 1.5  # Keras: (0, f)
    zoom = build_one({"type": "RandomZoom", "height_factor": [-0.2, 0.3]}, (2, 2, 1))
    zooms = zoom.draw(x)  # type: ignore[operator]
    assert torch.equal(zooms[:, 0], zooms[:, 1])  # no width_factor: the height's draw
    assert 0.8 <= float(zooms.min()) and float(zooms.max()) <= 1.3
    shift = build_one({"type": "RandomTranslation", "height_factor": 0.5, "width_factor": 0.0},
                  (10, 4, 1))  # fmt: skip
    shifts = shift.draw(torch.zeros(4000, 10, 4, 1))  # type: ignore[operator]
    assert float(shifts[:, 0].abs().max()) == 0.0 and 4.9 < float(shifts[:, 1].max()) <= 5.0


@pytest.mark.parametrize(
    ("spec", "low", "high"),
    [
        ({"type": "RandomBrightness", "factor": 0.9}, 0.0, 255.0),
        ({"type": "RandomContrast", "factor": [0.0, 1.0], "value_range": [10, 200]}, 10, 200),
    ],
)
def test_colour_augmentations_stay_in_the_value_range(
    spec: dict[str, Any], low: float, high: float
) -> None:
    out = build_one(spec, (9, 8, 3)).train()(IMAGES)
    assert float(out.min()) >= low and float(out.max()) <= high
    assert not torch.equal(out, IMAGES.clamp(low, high))


def test_grayscale_and_posterization_outputs_have_their_kind_of_values() -> None:
    torch.manual_seed(2)
    grey = build_one({"type": "RandomGrayscale", "factor": 1.0}, (9, 8, 3)).train()(IMAGES)
    assert torch.equal(grey[..., 0], grey[..., 1]) and torch.equal(grey[..., 1], grey[..., 2])
    poster = build_one({"type": "RandomPosterization", "factor": [3, 3]}, (9, 8, 3)).train()
    out = poster(IMAGES)
    assert torch.equal(out, (IMAGES.to(torch.uint8) // 32 * 32).float())  # 3 high bits


def test_auto_contrast_applies_at_inference_and_spans_the_value_range() -> None:
    layer = build_one({"type": "AutoContrast", "value_range": [0, 1]}, (9, 8, 3)).eval()
    out = layer(IMAGES / 510 + 0.2)
    torch.testing.assert_close(out.amin(dim=(1, 2)), torch.zeros(6, 3), atol=1e-6, rtol=0)
    torch.testing.assert_close(out.amax(dim=(1, 2)), torch.ones(6, 3), atol=1e-6, rtol=0)


def test_solarization_with_keras_defaults_inverts_every_pixel() -> None:
    """Additions and thresholds default to 0: every value is at or above the threshold."""
    layer = build_one({"type": "Solarization"}, (9, 8, 3)).train()
    torch.testing.assert_close(layer(IMAGES), 255 - IMAGES)


def test_random_crop_takes_one_window_of_the_input_per_batch() -> None:
    layer = build_one({"type": "RandomCrop", "height": 4, "width": 5}, (9, 8, 3)).train()
    out = layer(IMAGES)
    windows = IMAGES.unfold(1, 4, 1).unfold(2, 5, 1)  # (N, 6, 4, C, 4, 5)
    match = (windows.permute(0, 1, 2, 4, 5, 3) == out[:, None, None]).flatten(3).all(3)
    assert bool(match.any(dim=(1, 2)).all())
    assert int(match[0].nonzero().shape[0]) >= 1 and torch.equal(match[0], match[1])


def test_reflect_wrap_and_nearest_fill_read_kerass_pixels() -> None:
    """A shift by 2 pixels to the right of a 1 x 4 row: what each fill mode writes
    into the two uncovered pixels (Keras's `fill_mode` examples)."""
    row = torch.tensor([[1.0, 2.0, 3.0, 4.0]]).view(1, 1, 4, 1)
    shift = torch.tensor([[1.0, 0.0, -2.0, 0.0, 1.0, 0.0, 0.0, 0.0]])
    found = {
        mode: affine_transform(row, shift, "bilinear", mode, 9.0).view(4).tolist()
        for mode in ("reflect", "wrap", "nearest", "constant")
    }
    assert found == {
        "reflect": [2.0, 1.0, 1.0, 2.0],
        "wrap": [3.0, 4.0, 1.0, 2.0],
        "nearest": [1.0, 1.0, 1.0, 2.0],
        "constant": [9.0, 9.0, 1.0, 2.0],
    }


# -- arguments and shapes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"type": "RandomRotation", "factor": 1.5}, "in \\[-1.0, 1.0\\]"),
        ({"type": "RandomContrast", "factor": [1.5, 2.0]}, "in \\[0.0, 1.0\\]"),
        ({"type": "RandomZoom", "height_factor": -1.0}, "\\(-1.0, 1.0\\]"),
        ({"type": "RandomTranslation", "height_factor": 0.2, "width_factor": 1.2}, "width"),
        ({"type": "Normalization", "mean": 1.0}, "both mean and variance"),
        ({"type": "Normalization", "mean": [1, 2], "variance": [1]}, "same shape"),
        ({"type": "Normalization", "mean": [[1.0]], "variance": [[1.0]]}, "rank 2"),
        ({"type": "Resizing", "height": 2, "width": 2, "interpolation": "lanczos3"}, "bicubic"),
        (
            {"type": "Resizing", "height": 2, "width": 2, "crop_to_aspect_ratio": True}
            | {"pad_to_aspect_ratio": True},
            "only one",
        ),
        ({"type": "CategoryEncoding", "num_tokens": 0}, "greater than 0"),
        ({"type": "CategoryEncoding", "num_tokens": 3, "sparse": True}, "False"),
        ({"type": "RandomShear", "x_factor": [-0.2, 0.2]}, "x_factor .* in \\[0.0, 1.0\\]"),
        ({"type": "RandomPosterization", "factor": 9}, "in \\[1.0, 8.0\\]"),
        ({"type": "RandomGaussianBlur", "kernel_size": 4}, "odd"),
        ({"type": "RandomGaussianBlur", "kernel_size": [3, 5]}, "square"),
        ({"type": "Solarization", "threshold_factor": 1.5}, "threshold_factor"),
        ({"type": "RandomGrayscale", "factor": 2.0}, "less than or equal to 1"),
    ],
)
def test_arguments_keras_refuses_are_refused(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        parse_layer(spec)


@pytest.mark.parametrize(
    ("spec", "input_shape", "message"),
    [
        ({"type": "RandomFlip"}, (8, 8), "height, width, channels"),
        ({"type": "RandomHue", "factor": 0.1}, (8, 8, 4), "3 channels"),
        ({"type": "RandomGrayscale"}, (8, 8, 2), "1 or 3 channels"),
        ({"type": "Normalization", "axis": 0}, (4,), "axis 0"),
        ({"type": "Normalization", "axis": 3}, (4, 2), "out of range"),
        ({"type": "Normalization"}, (5, None), "variable"),
        ({"type": "CategoryEncoding", "num_tokens": 4}, (2, 3), "shape \\(k,\\)"),
        ({"type": "Normalization", "mean": [1.0, 2.0], "variance": [1.0, 2.0]}, (3,), "broadc"),
    ],
)
def test_inputs_keras_cannot_take_are_shape_errors(
    spec: dict[str, Any], input_shape: tuple[int | None, ...], message: str
) -> None:
    with pytest.raises(ShapeError, match=message):
        build_one(spec, input_shape)


def test_variable_image_sizes_are_resized_to_fixed_ones() -> None:
    resizing = build_one({"type": "Resizing", "height": 4, "width": 5}, (None, None, 3))
    assert resizing.output_shape == (4, 5, 3)
    layer = build_one({"type": "CenterCrop", "height": 2, "width": 2}, (None, None, 1))
    assert tuple(layer(torch.rand(2, 7, 5, 1)).shape) == (2, 2, 2, 1)


def test_binary_is_kerass_old_name_for_multi_hot() -> None:
    assert parse_layer({"type": "CategoryEncoding", "num_tokens": 3, "output_mode": "binary"})


def test_normalization_weights_are_buffers_and_count_is_int32() -> None:
    layer = build_one({"type": "Normalization"}, (3,))
    assert dict(layer.named_parameters()) == {}
    assert layer.keras_weights()["count"].dtype == torch.int32
    x = torch.randn(4, 3)
    torch.testing.assert_close(layer(x), x)  # not adapted: mean 0, variance 1


def test_gradients_flow_through_the_deterministic_layers() -> None:
    x = torch.rand(2, 6, 5, 3, requires_grad=True)
    for spec in (
        {"type": "Rescaling", "scale": 2.0},
        {"type": "Normalization", "mean": 1.0, "variance": 4.0},
        {"type": "Resizing", "height": 3, "width": 3},
    ):
        x.grad = None
        build_one(spec, (6, 5, 3))(x).sum().backward()
        assert x.grad is not None and float(x.grad.abs().sum()) > 0


# -- whole models: the meta device, and Keras's JSON --------------------------------------

CROP = {
    "type": "sequential",
    "layers": [
        {"type": "Input", "shape": [10, 12, 3]},
        {"type": "RandomCrop", "height": 6, "width": 6, "seed": 7},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ],
}


MODELS = {
    "images": PIPELINE,
    "colours": COLOURS,
    "equalized": EQUALIZED,
    "categories": ENCODER,
    "crop": CROP,
}


@pytest.mark.parametrize("spec", list(MODELS.values()), ids=list(MODELS))
def test_models_build_on_the_meta_device(spec: dict[str, Any]) -> None:
    model = build_model(model_spec(spec), device="meta")
    assert model.output_shape == (2,)


@pytest.mark.parametrize("spec", list(MODELS.values()), ids=list(MODELS))
def test_keras_loads_what_cornu_writes_and_predicts_the_same(spec: dict[str, Any]) -> None:
    """Keras builds the model from Cornu's JSON, writes the same JSON back, has the same
    weights, and predicts (inference: augmentations off) what the engine predicts."""
    keras = keras_or_skip()
    parsed = model_spec(spec)
    written = to_keras(parsed, shapes_of(parsed))
    model = keras.models.model_from_json(json.dumps(written))
    if spec is not EQUALIZED:  # Keras writes that one back with an "imageCLONE" input
        assert same_json(json.loads(model.to_json()), written)
    if spec is CROP:
        return  # Keras 3.15 does not crop at inference: see the RandomCrop tests
    ours = build_model(parsed).eval()
    weights = ours.keras_weights()
    assert [tuple(w.shape) for w in model.get_weights()] == [
        tuple(w.shape) for w in weights.values()
    ]
    generator = torch.Generator().manual_seed(0)
    new = {k: torch.rand(v.shape, generator=generator) for k, v in weights.items()}
    new = {k: v.to(torch.int32) if k.endswith("count") else v for k, v in new.items()}
    ours.load_keras_weights(new)
    model.set_weights([v.numpy() for v in new.values()])
    for layer in model.layers:
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()  # Keras's Normalization reads its weights there
    if spec is ENCODER:
        x = torch.randint(0, 6, (5, 4))
    else:
        x = torch.rand(5, *ours.input_shape, generator=generator) * 255
    with torch.no_grad():
        (out,) = ours(x)
    expected_out = model.predict(x.numpy(), verbose=0)
    np.testing.assert_allclose(out.numpy(), expected_out, rtol=1e-4, atol=1e-5)


def test_a_model_augments_while_training_and_not_at_inference() -> None:
    model = build_model(model_spec(PIPELINE))
    x = torch.rand(4, 10, 12, 3) * 255
    with torch.no_grad():
        (first,), (second,) = model.train()(x), model(x)
        (third,), (fourth,) = model.eval()(x), model(x)
    assert not torch.equal(first, second)
    assert torch.equal(third, fourth)


@pytest.mark.parametrize("name", ["colours", "categories"])
def test_a_keras_file_cornu_writes_loads_in_keras(tmp_path: Path, name: str) -> None:
    """The `.keras` archive (config and weights) of models of these layers."""
    keras = keras_or_skip()
    parsed = model_spec(MODELS[name])
    ours = build_model(parsed).eval()
    weights = {k: v.detach().numpy() for k, v in ours.keras_weights().items()}
    path = tmp_path / f"{name}.keras"
    keras_files.save_model(path, parsed, weights, shapes=shapes_of(parsed))
    loaded = keras.models.load_model(path)
    x = torch.randint(0, 6, (3, 4)) if name == "categories" else torch.rand(3, 6, 7, 3) * 255
    with torch.no_grad():
        (out,) = ours(x)
    np.testing.assert_allclose(loaded.predict(x.numpy(), verbose=0), out.numpy(), atol=1e-4)


def test_a_keras_file_holds_an_adapted_normalizations_weights(tmp_path: Path) -> None:
    keras = keras_or_skip()
    parsed = model_spec(
        {
            "type": "sequential",
            "layers": [{"type": "Input", "shape": [3]}, {"type": "Normalization"}],
        }
    )
    weights = {
        "normalization/mean": np.array([1.0, 2.0, 3.0], np.float32),
        "normalization/variance": np.array([4.0, 1.0, 0.25], np.float32),
        "normalization/count": np.array(0, np.int32),
    }
    path = tmp_path / "normalization.keras"
    keras_files.save_model(path, parsed, weights, shapes=shapes_of(parsed))
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.layers[0].adapt_mean.numpy(), [1.0, 2.0, 3.0])
