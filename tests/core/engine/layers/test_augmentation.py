"""Pipeline, RandAugment, AugMix, RandomElasticTransform and CLAHE against real Keras 3.15
(torch backend, `augmentation_outputs.json`, `gen_augmentation.py`): CLAHE's outputs in
training and at inference; the random layers' inference identity and their training
transform for the same draw given to both (inner layers' parameters, the operations
chosen, the elastic noise); properties of the draws that a wrong layer would fail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import ValidationError

from cornu.core.engine.layers import Layer, ShapeError
from cornu.core.spec.layers import parse_layer
from tests.core.engine.layers.keras_reference import build_one
from tests.core.engine.layers.test_preprocessing import _draw_for

DATA = Path(__file__).parents[3] / "data" / "keras" / "augmentation_outputs.json"
CASES: dict[str, Any] = json.loads(DATA.read_text())["cases"]
RANDOM = [k for k, c in CASES.items() if "draw" in c]
CLAHE = [k for k in CASES if k.startswith("clahe")]


def case_layer(case_id: str) -> tuple[Layer, torch.Tensor]:
    case = CASES[case_id]
    x = torch.tensor(case["input"], dtype=torch.float32)
    layer = build_one(case["layer"], tuple(x.shape[1:]))
    weights = layer.keras_weights()
    with torch.no_grad():
        for name, value in case.get("set_weights", {}).items():
            weights[name].copy_(torch.tensor(value))
    return layer, x


def close(actual: torch.Tensor, values: Any, atol: float = 1e-5) -> None:
    expected = torch.tensor(values, dtype=torch.float32)
    torch.testing.assert_close(actual.float(), expected, rtol=1e-5, atol=atol)


_INNER_TYPES = {
    "random_shear": "RandomShear",
    "random_translation": "RandomTranslation",
    "random_rotation": "RandomRotation",
    "random_brightness": "RandomBrightness",
    "random_color_degeneration": "RandomColorDegeneration",
    "random_contrast": "RandomContrast",
    "random_sharpness": "RandomSharpness",
    "random_posterization": "RandomPosterization",
    "solarization": "Solarization",
    "auto_contrast": "AutoContrast",
    "equalization": "Equalization",
}


def _inner(name: str, draw: Any) -> Any:
    """An inner layer's draw in the form its `transform_images` takes."""
    return None if draw is None else _draw_for({"type": _INNER_TYPES[name]}, draw)


def cornu_draw(case_id: str) -> Any:
    case = CASES[case_id]
    kind, draw = case["layer"]["type"], case["draw"]
    if kind == "RandAugment":
        draws = {name: _inner(name, d) for name, d in draw["draws"].items()}
        return {"ops": draw["ops"], "draws": draws}
    if kind == "AugMix":
        chains = [[(name, _inner(name, d)) for name, d in chain] for chain in draw["chains"]]
        return {
            "weights": torch.tensor(draw["weights"]),
            "mix": torch.tensor(draw["mix"]),
            "chains": chains,
        }
    apply, distortion, noise = draw  # RandomElasticTransform
    return torch.tensor(apply), torch.tensor(distortion), torch.tensor(noise)


# -- against Keras -----------------------------------------------------------------------


@pytest.mark.parametrize("case_id", list(CASES))
def test_output_shapes_and_counts_match_keras(case_id: str) -> None:
    layer, _ = case_layer(case_id)
    assert list(layer.output_shape) == CASES[case_id]["output_shape"]
    assert layer.count_params()[0] == CASES[case_id]["params"]


@pytest.mark.parametrize("case_id", CLAHE)
def test_clahe_matches_keras_in_training_and_at_inference(case_id: str) -> None:
    """Keras's CLAHE ignores the training flag: it equalizes at inference too."""
    layer, x = case_layer(case_id)
    close(layer.eval()(x), CASES[case_id]["output"])
    close(layer.train()(x), CASES[case_id]["training"])
    assert CASES[case_id]["output"] == CASES[case_id]["training"]


@pytest.mark.parametrize("case_id", RANDOM)
def test_random_layers_are_the_identity_at_inference(case_id: str) -> None:
    layer, x = case_layer(case_id)
    out = layer.eval()(x)
    close(out, CASES[case_id]["inference"])
    torch.testing.assert_close(out, x)


@pytest.mark.parametrize("case_id", RANDOM)
def test_training_transforms_match_keras_for_the_same_draw(case_id: str) -> None:
    """RandAugment's operations (all eleven, repeated, none), AugMix's chains and mixing,
    and the elastic field (every fill mode, both interpolations, its clipping), with
    Keras's own `transform_images` as reference."""
    layer, x = case_layer(case_id)
    out = layer.train().transform_images(x, cornu_draw(case_id))  # type: ignore[operator]
    # Posterization and equalization cut values to integers: a float32 difference
    # in the value-range conversion may move one to the next integer (not seen here).
    close(out, CASES[case_id]["training"])


# On the torch backend Keras's RandAugment runs every operation on each pass, chosen or
# not, and two change their inputs in place: RandomBrightness adds its delta to the
# images, and `affine_transform` swaps entries of RandomRotation's matrix. Cornu computes
# what RandAugment computes on TensorFlow and JAX (and what the torch backend gives where
# neither applies): the chosen operations in turn (`gen_augmentation.rand_augment`).
TORCH_IN_PLACE = {
    "rand_augment_brightness_solarization",  # brightness on both passes
    "rand_augment_contrast_brightness_unit_range",  # brightness before contrast too
    "rand_augment_translation_rotation_nearest",  # the second pass's matrix swapped
    "rand_augment_rotation_twice",
}


@pytest.mark.parametrize("case_id", [k for k in CASES if "keras_torch_training" in CASES[k]])
def test_rand_augment_is_kerass_own_output_but_for_the_torch_in_place_changes(
    case_id: str,
) -> None:
    case = CASES[case_id]
    layer, x = case_layer(case_id)
    out = layer.train().transform_images(x, cornu_draw(case_id))  # type: ignore[operator]
    torch_output = torch.tensor(case["keras_torch_training"])
    if case_id in TORCH_IN_PLACE:
        assert (out - torch_output).abs().max() > 0.1
    else:
        close(out, case["keras_torch_training"])


def test_pipeline_matches_keras_with_the_inner_layers_weights() -> None:
    case = CASES["pipeline"]
    layer, x = case_layer("pipeline")
    assert list(layer.keras_weights()) == ["dense/kernel", "dense/bias"]
    close(layer.eval()(x), case["output"])


# -- properties ------------------------------------------------------------------------

IMAGES = torch.rand(4, 12, 10, 3) * 255


def test_pipeline_runs_its_layers_in_order_in_the_models_training_mode() -> None:
    layer = build_one(
        {
            "type": "Pipeline",
            "layers": [
                {"type": "Rescaling", "scale": 2.0},
                {"type": "RandomFlip", "mode": "horizontal"},
                {"type": "CenterCrop", "height": 4, "width": 6},
            ],
        },
        (12, 10, 3),
    )
    assert layer.output_shape == (4, 6, 3)
    expected = (IMAGES * 2)[:, 4:8, 2:8]
    torch.testing.assert_close(layer.eval()(IMAGES), expected)
    torch.manual_seed(0)
    many = IMAGES.repeat(8, 1, 1, 1)
    out = layer.train()(many)
    flipped = ((many * 2).flip(2)[:, 4:8, 2:8] == out).flatten(1).all(1)
    same = ((many * 2)[:, 4:8, 2:8] == out).flatten(1).all(1)
    assert bool((flipped | same).all()) and 0 < int(flipped.sum()) < 32


def test_pipeline_checks_its_layers_shapes() -> None:
    spec = {"type": "Pipeline", "layers": [{"type": "Flatten"}, {"type": "RandomFlip"}]}
    with pytest.raises(ShapeError, match="Pipeline's layer 1 \\(RandomFlip\\)"):
        build_one(spec, (12, 10, 3))
    with pytest.raises(ValidationError, match="Input"):
        parse_layer({"type": "Pipeline", "layers": [{"type": "Input", "shape": [3]}]})


def test_rand_augment_builds_kerass_inner_layers_from_its_factor() -> None:
    spec = parse_layer({"type": "RandAugment", "factor": 0.8, "value_range": [0, 1]})
    parts = dict(spec.named_parts())  # type: ignore[attr-defined]
    assert list(parts) == list(_INNER_TYPES)
    assert parts["random_posterization"].factor == [1, 6]  # max(1, int(8 * 0.8))
    assert parts["random_rotation"].factor == [0.0, 0.8]
    assert parts["solarization"].threshold_factor == [0.0, 0.8]
    assert parts["random_contrast"].value_range == (0.0, 1.0)


def test_rand_augment_draws_num_ops_operations_per_batch() -> None:
    layer = build_one({"type": "RandAugment", "num_ops": 4}, (12, 10, 3)).train()
    torch.manual_seed(1)
    seen = set()
    for _ in range(40):
        ops = layer.draw(IMAGES)["ops"]  # type: ignore[operator]
        assert len(ops) == 4 and all(0 <= i < 11 for i in ops)
        seen.update(ops)
    assert seen == set(range(11))
    out = layer(IMAGES)
    assert out.shape == IMAGES.shape and bool(((out >= 0) & (out <= 255)).all())


def test_aug_mix_weights_are_dirichlet_and_slots_may_stay_empty() -> None:
    layer = build_one({"type": "AugMix", "all_ops": False, "num_chains": 4}, (12, 10, 3)).train()
    torch.manual_seed(2)
    lengths = []
    for _ in range(30):
        draw = layer.draw(IMAGES)  # type: ignore[operator]
        assert draw["weights"].shape == (4,)
        torch.testing.assert_close(draw["weights"].sum(), torch.tensor(1.0))
        assert 0.0 <= float(draw["mix"]) <= 1.0
        names = {name for chain in draw["chains"] for name, _ in chain}
        assert not names & {"random_brightness", "random_contrast", "random_sharpness"}
        lengths += [len(chain) for chain in draw["chains"]]
    # depth 3, each slot one of 7 operations or none
    assert max(lengths) == 3 and sum(lengths) < 3 * len(lengths)


def test_aug_mix_of_identity_chains_is_the_input_clipped() -> None:
    layer = build_one({"type": "AugMix", "value_range": [0, 100]}, (12, 10, 3))
    draw = {"weights": torch.tensor([0.2, 0.3, 0.5]), "mix": torch.tensor(0.4), "chains": [[]] * 3}
    out = layer.transform_images(IMAGES, draw)  # type: ignore[operator]
    torch.testing.assert_close(out, IMAGES.clamp(0, 100))


def test_elastic_transform_moves_pixels_only_where_drawn_and_keeps_the_values() -> None:
    layer = build_one({"type": "RandomElasticTransform", "interpolation": "nearest"}, (12, 10, 3))
    torch.manual_seed(3)
    apply, distortion, noise = layer.draw(IMAGES)  # type: ignore[operator]
    apply = torch.tensor([True, False, True, False])
    out = layer.transform_images(IMAGES, (apply, torch.tensor(1.0), noise * 5))  # type: ignore[operator]
    torch.testing.assert_close(out[~apply], IMAGES[~apply])
    assert not torch.equal(out[apply], IMAGES[apply])
    # nearest reads existing pixels: every output value is one of the image's
    for i in (0, 2):
        assert bool(torch.isin(out[i], IMAGES[i]).all())
    zero = layer.transform_images(IMAGES, (apply, torch.tensor(1.0), noise * 0))  # type: ignore[operator]
    torch.testing.assert_close(zero, IMAGES)


def test_elastic_transform_with_factor_or_scale_zero_is_the_identity_unclipped() -> None:
    for spec in ({"factor": 0.0}, {"scale": 0.0}):
        layer = build_one(
            {"type": "RandomElasticTransform", "value_range": [0, 1], **spec}, (12, 10, 3)
        )
        torch.testing.assert_close(layer.train()(IMAGES), IMAGES)


def test_clahe_with_a_limit_under_one_count_truncates_to_integers() -> None:
    """2 x 2 tiles: Keras's integer limit int(4 * 4 / 256) is 0, every histogram is spread
    flat, each tile's table is the identity: the output is the input truncated."""
    layer = build_one({"type": "ContrastLimitedAdaptiveHistogramEqualization"}, (16, 16, 3))
    images = torch.rand(2, 16, 16, 3) * 255
    torch.testing.assert_close(layer(images), images.floor(), rtol=0, atol=1e-4)


def test_argument_checks() -> None:
    with pytest.raises(ValidationError):
        parse_layer({"type": "ContrastLimitedAdaptiveHistogramEqualization", "tile_grid_size": 0})
    with pytest.raises(ValidationError, match="factor"):
        parse_layer({"type": "RandAugment", "factor": 1.5})
    with pytest.raises(ValidationError, match="scale"):
        parse_layer({"type": "RandomElasticTransform", "scale": 2})


def test_the_sdk_takes_kerass_positional_arguments_and_nested_layers() -> None:
    from cornu import layers

    augment = layers.RandAugment((0, 1), 3, 0.2)
    assert augment.to_spec()["num_ops"] == 3 and augment.to_spec()["value_range"] == [0, 1]
    pipeline = layers.Pipeline([layers.RandomFlip("horizontal"), layers.Rescaling(0.5)])
    inner = parse_layer(pipeline.to_spec()).layers  # type: ignore[attr-defined]
    assert [(i.type, i.name) for i in inner] == [
        ("RandomFlip", pipeline.to_spec()["layers"][0]["name"]),
        ("Rescaling", pipeline.to_spec()["layers"][1]["name"]),
    ]
    clahe = layers.ContrastLimitedAdaptiveHistogramEqualization((0, 1), 2.0, (4, 4))
    assert parse_layer(clahe.to_spec()).tile_grid_size == (4, 4)  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="factor"):
        layers.AugMix(factor=3)
