"""Keras 3 reference outputs for Pipeline, RandAugment, AugMix, RandomElasticTransform and
ContrastLimitedAdaptiveHistogramEqualization (augmentation_outputs.json).

Every expected number was computed by real Keras. Each case holds the layer's arguments,
its input, Keras's output shape and parameter count, and:
- CLAHE: `output = layer(x, training=False)` and `training = layer(x, training=True)`
  (Keras applies it in both);
- Pipeline: its inner layers' weights (set with `set_weights`) and
  `output = pipeline(x, training=False)`;
- the random layers: `inference = layer(x, training=False)`, and `training`, what
  Keras's own `transform_images(x, transformation, training=True)` gives for a chosen
  transformation, stored in Cornu's form as `draw`. RandAugment's and AugMix's
  transformations hold their inner layers' (the same values for each operation:
  `op_draws`); RandomElasticTransform's displacement noise is drawn by Keras inside
  `transform_images` from torch's global generator, so the script seeds it, draws the
  same two normal fields itself (stored exactly), and seeds it again before Keras runs.
  RandAugment's `training` is its chosen inner layers applied in turn, and
  `keras_torch_training` its own torch-backend output, which in-place updates change
  where brightness or a second rotation is involved (`rand_augment`).

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_augmentation.py
"""

import json

import torch
from keras_ref import OUT, keras, layers, np

rng = np.random.default_rng(20261201)


def data(*shape, low=0.0, high=1.0):
    """Inputs rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.uniform(low, high, shape), 3).astype("float32")


def listed(x):
    return np.round(keras.ops.convert_to_numpy(x).astype("float64"), 7).tolist()


def exact(x):
    """float32 values as JSON numbers that read back to the same float32."""
    return np.asarray(keras.ops.convert_to_numpy(x)).astype("float64").tolist()


def tensor(x):
    """A tensor of its own: Keras's torch RandomBrightness adds to its input in place,
    which would change a NumPy array sharing the memory."""
    return keras.ops.convert_to_tensor(np.array(keras.ops.convert_to_numpy(x), copy=True))


def described(kind, args, x):
    layer = getattr(layers, kind)(**args)
    layer.build(x.shape)
    case = {
        "layer": {"type": kind, **args},
        "input": np.round(x.astype("float64"), 3).tolist(),
        "output_shape": list(layer.compute_output_shape((None, *x.shape[1:]))[1:]),
        "params": layer.count_params(),
    }
    return layer, case


def column(*values):
    return np.array(values, dtype="float32").reshape(-1, 1, 1, 1)


def op_draws(layer, x, unit):
    """A transformation for each of RandAugment's and AugMix's inner layers, as Keras's
    `transform_images` takes it, and the same draw in Cornu's form (2 images)."""
    n, height, width = x.shape[:3]
    scale = 1 / 255.0 if unit else 1.0
    angles = np.array([33.0, -101.0], dtype="float32")
    zeros, ones = keras.ops.zeros([n]), keras.ops.ones([n])
    rotation = layer.random_rotation._compute_affine_matrix(
        0.5, 0.5, tensor(angles), zeros, zeros, ones, zeros, zeros, height, width
    )
    shear = np.array([[0.2, -0.1], [-0.3, 0.25]], dtype="float32")
    shifts = np.array([[1.3, -0.6], [-2.2, 1.7]], dtype="float32")
    delta = column(20.0, -35.0) * scale
    degeneration, contrast = column(0.3, -0.45), column(1.4, 0.55)
    sharpness = np.array([0.1, 0.85], dtype="float32")
    shift = np.array([5, 3], dtype="uint8")
    additions, thresholds = column(20.0, 35.0), column(100.0, 180.0)
    keras_form = {
        "random_shear": {"shear_factor": shear},
        "random_translation": {"translations": shifts},
        "random_rotation": {"rotation_matrix": rotation},
        "random_brightness": {"rgb_delta": delta},
        "random_color_degeneration": {"factor": degeneration},
        "random_contrast": {"contrast_factor": contrast},
        "random_sharpness": {"factor": sharpness},
        "random_posterization": {"shift_factor": shift},
        "solarization": {"additions": additions, "thresholds": thresholds},
        "auto_contrast": None,
        "equalization": None,
    }
    cornu_form = {
        "random_shear": shear.tolist(),
        "random_translation": shifts.tolist(),
        "random_rotation": angles.tolist(),
        "random_brightness": exact(delta.ravel()),
        "random_color_degeneration": degeneration.ravel().tolist(),
        "random_contrast": contrast.ravel().tolist(),
        "random_sharpness": sharpness.tolist(),
        "random_posterization": shift.tolist(),
        "solarization": [additions.ravel().tolist(), thresholds.ravel().tolist()],
        "auto_contrast": None,
        "equalization": None,
    }
    keras_form = {
        k: None if v is None else {key: tensor(value) for key, value in v.items()}
        for k, v in keras_form.items()
    }
    return keras_form, cornu_form


def fresh(transformation):
    """A copy of an inner layer's transformation: Keras's torch `affine_transform` swaps
    entries of the matrix it is given in place (RandomRotation's `rotation_matrix`)."""
    return None if transformation is None else {k: tensor(v) for k, v in transformation.items()}


def rand_augment(args, x, ops, unit=False, brightness=True):
    """RandAugment for chosen operations: `training` is Keras's inner layers applied in
    turn, each to its own copy of the images with its own copy of its transformation —
    what RandAugment's `transform_images` computes on TensorFlow and JAX — and
    `keras_torch_training` what it computes on the torch backend. There, every
    operation runs on each pass, chosen or not, and two of them change what they are
    given in place: RandomBrightness adds its delta to the images (so it reaches them on
    every pass), and `affine_transform` swaps entries of RandomRotation's matrix (so a
    later pass rotates with the swapped matrix). Without `brightness`, its delta is 0."""
    layer, case = described("RandAugment", args, x)
    case["inference"] = listed(layer(x, training=False))
    given, draws = op_draws(layer, x, unit)
    if not brightness:
        zero = np.zeros((x.shape[0], 1, 1, 1), dtype="float32")
        given["random_brightness"] = {"rgb_delta": tensor(zero)}
        draws["random_brightness"] = zero.ravel().tolist()
    transformation = {
        "transforms": {name: fresh(given[name]) for name in layer._AUGMENT_LAYERS},
        "layer_idxes": tensor(np.array(ops, dtype="int32")),
    }
    images = tensor(x)
    for index in ops:
        name = layer._AUGMENT_LAYERS[index]
        images = getattr(layer, name).transform_images(tensor(images), fresh(given[name]))
    case["training"] = listed(images)
    case["keras_torch_training"] = listed(
        layer.transform_images(tensor(x), transformation, training=True)
    )
    case["draw"] = {"ops": ops, "draws": {name: draws[name] for name in layer._AUGMENT_LAYERS}}
    return case


def aug_mix(args, x, chains, weights, mix, unit=False):
    layer, case = described("AugMix", args, x)
    case["inference"] = listed(layer(x, training=False))
    given, draws = op_draws(layer, x, unit)
    transformation = {
        "chain_mixing_weights": tensor(np.array(weights, dtype="float32")),
        "weight_sample": tensor(np.array(mix, dtype="float32")),
        "chain_transforms": [
            [{"layer_name": name, "transformation": fresh(given[name])} for name in chain]
            for chain in chains
        ],
    }
    case["training"] = listed(layer.transform_images(tensor(x), transformation, training=True))
    case["draw"] = {
        "weights": weights,
        "mix": mix,
        "chains": [[[name, draws[name]] for name in chain] for chain in chains],
    }
    return case


def composite_cases():
    rgb = data(2, 8, 9, 3, high=255.0)
    unit = data(2, 8, 9, 3)
    yield "rand_augment_brightness_solarization", rand_augment({}, rgb, [3, 8])
    yield (
        "rand_augment_shear_equalization_shear",
        rand_augment({"num_ops": 3, "factor": 0.8}, rgb, [0, 10, 0], brightness=False),
    )
    yield (
        "rand_augment_translation_rotation_nearest",
        rand_augment({"interpolation": "nearest"}, rgb, [1, 2], brightness=False),
    )
    yield (
        "rand_augment_colour_ops",
        rand_augment({"num_ops": 3, "factor": [0.2, 0.6]}, rgb, [4, 5, 6], brightness=False),
    )
    yield (
        "rand_augment_unit_range",
        rand_augment({"value_range": [0, 1]}, unit, [7, 9], unit=True, brightness=False),
    )
    yield "rand_augment_no_ops", rand_augment({"num_ops": 0}, rgb, [])
    yield "rand_augment_brightness_alone", rand_augment({"num_ops": 1}, rgb, [3])
    yield "rand_augment_rotation_twice", rand_augment({"num_ops": 2}, rgb, [2, 2])
    yield (
        "rand_augment_contrast_brightness_unit_range",
        rand_augment({"value_range": [0, 1]}, unit, [5, 3], unit=True),
    )
    yield (
        "aug_mix",
        aug_mix(
            {},
            rgb,
            [
                ["random_shear", "solarization"],
                [],
                ["random_contrast", "auto_contrast", "random_rotation"],
            ],
            [0.5, 0.2, 0.3],
            0.35,
        ),
    )
    yield (
        "aug_mix_unit_range_few_ops",
        aug_mix(
            {"value_range": [0, 1], "all_ops": False, "num_chains": 2, "chain_depth": 2},
            unit,
            [["random_posterization", "equalization"], ["random_translation"]],
            [0.7, 0.3],
            0.6,
            unit=True,
        ),
    )
    yield (
        "aug_mix_colour_ops",
        aug_mix(
            {"num_chains": 2, "chain_depth": 2, "factor": 0.6, "alpha": 0.5},
            rgb,
            [["random_brightness", "random_sharpness"], ["random_color_degeneration"]],
            [0.1, 0.9],
            0.25,
        ),
    )


def elastic(args, x, apply, distortion, seed):
    layer, case = described("RandomElasticTransform", args, x)
    case["inference"] = listed(layer(x, training=False))
    n, height, width = x.shape[:3]
    torch.manual_seed(seed)
    noise = [torch.normal(0.0, 1.0, size=(n, height, width)) for _ in range(2)]
    transformation = {
        "apply_transform": tensor(np.array(apply)),
        "distortion_factor": tensor(np.array(distortion, dtype="float32")),
        "seed": None,
    }
    torch.manual_seed(seed)
    case["training"] = listed(layer.transform_images(tensor(x), transformation, training=True))
    case["draw"] = [apply, distortion, [exact(f) for f in noise]]
    return case


def elastic_cases():
    img = data(2, 16, 14, 2, high=255.0)
    unit = data(2, 16, 14, 1)
    yield "elastic", elastic({}, img, [True, False], 1.0, 1)  # a 5 x 5 blur
    for fill, interpolation in (
        ("constant", "nearest"),
        ("mirror", "bilinear"),
        ("wrap", "bilinear"),
        ("nearest", "nearest"),
    ):
        args = {"fill_mode": fill, "interpolation": interpolation, "factor": 0.5, "scale": 0.8}
        if fill == "constant":
            args["fill_value"] = 300.0  # clipped to value_range afterwards
        yield f"elastic_{fill}_{interpolation}", elastic(args, img, [True, True], 0.75, 2)
    yield (
        "elastic_unit_range",
        elastic({"value_range": [0.2, 0.8], "scale": [0.3, 0.6]}, unit, [False, True], 0.5, 3),
    )


def clahe_cases():
    for name, args, x in (
        ("clahe", {}, data(2, 16, 16, 3, high=255.0)),
        ("clahe_padded_grid", {"tile_grid_size": [3, 2]}, data(2, 10, 7, 2, high=255.0)),
        (
            "clahe_no_clip",
            {"clip_limit": 0.0, "tile_grid_size": [2, 2]},
            data(1, 9, 11, 1, high=255.0),
        ),
        (
            "clahe_low_clip",
            {"clip_limit": 1.5, "tile_grid_size": [4, 3]},
            data(2, 12, 9, 3, high=255.0),
        ),
        ("clahe_unit_range", {"value_range": [0, 1], "tile_grid_size": [2, 3]}, data(2, 8, 9, 1)),
    ):
        kind = "ContrastLimitedAdaptiveHistogramEqualization"
        layer, case = described(kind, args, x)
        case["output"] = listed(layer(x, training=False))
        case["training"] = listed(layer(x, training=True))
        yield name, case


def pipeline_cases():
    x = data(2, 6, 7, 3, high=255.0)
    inner = [
        layers.Rescaling(scale=0.01, offset=-1.0, name="scale"),
        layers.RandomFlip(name="flip"),
        layers.CenterCrop(4, 5),
        layers.Dense(2),
    ]
    native = [
        {"type": "Rescaling", "scale": 0.01, "offset": -1.0, "name": "scale"},
        {"type": "RandomFlip", "name": "flip"},
        {"type": "CenterCrop", "height": 4, "width": 5},
        {"type": "Dense", "units": 2},
    ]
    pipeline = layers.Pipeline(inner)
    pipeline.build(x.shape)
    pipeline(x, training=False)  # builds the inner layers
    dense = inner[-1]
    kernel = np.round(rng.uniform(-1, 1, (3, 2)), 3).astype("float32")
    bias = np.array([0.5, -0.25], dtype="float32")
    dense.set_weights([kernel, bias])
    serialized = keras.saving.serialize_keras_object(pipeline)
    out = pipeline(x, training=False)
    yield (
        "pipeline",
        {
            "layer": {"type": "Pipeline", "layers": native},
            "keras_config": serialized["config"],
            "input": np.round(x.astype("float64"), 3).tolist(),
            "output_shape": list(out.shape[1:]),
            "params": pipeline.count_params(),
            "set_weights": {"dense/kernel": kernel.tolist(), "dense/bias": bias.tolist()},
            "output": listed(out),
        },
    )


def main():
    cases = dict(clahe_cases()) | dict(elastic_cases()) | dict(composite_cases())
    cases |= dict(pipeline_cases())
    body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in cases.items())
    path = OUT / "augmentation_outputs.json"
    path.write_text('{\n"cases": {\n' + body + "\n}\n}\n")
    print("wrote", path.name)


if __name__ == "__main__":
    main()
