"""Keras 3 reference outputs for the preprocessing and image augmentation layers.

Every expected number in preprocessing_outputs.json was computed by real Keras.
`cases` hold a layer's arguments, its input, Keras's output shape, parameter count and
weight names, and its outputs:
- layers that always apply (Rescaling, Normalization with given statistics or set
  weights, Resizing, CenterCrop, AutoContrast, CategoryEncoding): `output = layer(x)`;
- layers active only while training: `inference = layer(x, training=False)`, and
  `training`, what Keras's own `transform_images(x, transformation, training=True)`
  gives for a chosen transformation (a flip, an angle's rotation matrix, zooms, shifts,
  contrast factors, …), stored in Cornu's form as `draw`. RandomColorJitter's draws go
  through Keras's inner layers in its order; RandomErasing's rectangles through its
  `_generate_batch_mask`; RandomCrop also stores the `centred` window Keras computes
  for inference (and then does not apply).
`adapt` holds Normalization.adapt results for an array and for a list of batches, for
the SDK's adapt (Keras's adapt needs a stand-in for TensorFlow's Dataset class to take a
list: see `without_tensorflow`).

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_preprocessing.py
"""

import json

from keras_ref import OUT, keras, layers, np

rng = np.random.default_rng(20261130)


def data(*shape, low=0.0, high=1.0):
    """Inputs rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.uniform(low, high, shape), 3).astype("float32")


def listed(x):
    return np.round(keras.ops.convert_to_numpy(x).astype("float64"), 7).tolist()


def described(kind, args, x):
    """A layer built on `x`'s shape: its Keras shape, counts and weight names."""
    layer = getattr(layers, kind)(**args)
    layer.build(x.shape)
    return (
        layer,
        {
            "layer": {"type": kind, **args},
            "input": np.round(x.astype("float64"), 3).tolist(),  # the same float32 values
            "output_shape": list(layer.compute_output_shape((None, *x.shape[1:]))[1:]),
            "params": layer.count_params(),
            "weights": [w.path.split("/", 1)[1] for w in layer.weights],
        },
    )


def deterministic(kind, args, x, weights=None):
    layer, case = described(kind, args, x)
    if weights is not None:
        layer.set_weights([np.asarray(w) for w in weights.values()])
        if hasattr(layer, "finalize_state"):
            layer.finalize_state()
        case["set_weights"] = {k: np.asarray(v).tolist() for k, v in weights.items()}
    case["output"] = listed(layer(x))
    return case


def augmentation(kind, args, x, transformation, draw):
    """A random layer: its inference output, and its training output for a given draw."""
    layer, case = described(kind, args, x)
    case["inference"] = listed(layer(x, training=False))
    if kind == "RandomCrop":
        given = transformation["corner"]
    elif transformation is None:
        given = None
    elif isinstance(transformation, dict):
        given = {k: keras.ops.convert_to_tensor(v) for k, v in transformation.items()}
    else:  # RandomGrayscale's transformation is the tensor itself
        given = keras.ops.convert_to_tensor(transformation)
    images = keras.ops.convert_to_tensor(x)
    case["training"] = listed(layer.transform_images(images, given, training=True))
    case["draw"] = draw
    return case


def rotation(args, x, angles):
    """The rotation matrix Keras builds for these angles (`_compute_affine_matrix`)."""
    layer = layers.RandomRotation(**args)
    n, height, width = x.shape[:3]
    angle = keras.ops.convert_to_tensor(np.array(angles, dtype="float32"))
    zeros, ones = keras.ops.zeros([n]), keras.ops.ones([n])
    matrix = layer._compute_affine_matrix(
        0.5, 0.5, angle, zeros, zeros, ones, zeros, zeros, height, width
    )
    return augmentation("RandomRotation", args, x, {"rotation_matrix": matrix}, angles)


def image_cases():
    img = data(2, 5, 6, 3, high=255.0)
    small = data(2, 4, 3, 2)
    yield "rescaling", deterministic("Rescaling", {"scale": 1 / 255}, img)
    yield (
        "rescaling_channels",
        deterministic("Rescaling", {"scale": [0.5, 2.0, -1.0], "offset": [1.0, 0.0, 0.25]}, img),
    )
    for name, args in {
        "bilinear_down": {"height": 3, "width": 4},
        "bilinear_up": {"height": 7, "width": 9},
        "nearest": {"height": 4, "width": 9, "interpolation": "nearest"},
        "bicubic": {"height": 7, "width": 5, "interpolation": "bicubic"},
        "antialias": {"height": 2, "width": 3, "antialias": True},
        "crop": {"height": 3, "width": 3, "crop_to_aspect_ratio": True},
        "pad": {"height": 4, "width": 2, "pad_to_aspect_ratio": True, "fill_value": 7.0},
        "pad_wide": {"height": 2, "width": 5, "pad_to_aspect_ratio": True},
    }.items():
        yield f"resizing_{name}", deterministic("Resizing", args, img)
    yield "center_crop", deterministic("CenterCrop", {"height": 2, "width": 3}, img)
    yield "center_crop_smaller", deterministic("CenterCrop", {"height": 6, "width": 4}, small)

    flips = np.array([True, False]).reshape(2, 1, 1, 1)
    for mode in ("horizontal", "vertical", "horizontal_and_vertical"):
        yield (
            f"flip_{mode}",
            augmentation(
                "RandomFlip", {"mode": mode}, small, {"flips": flips}, flips.ravel().tolist()
            ),
        )
    for fill in ("reflect", "wrap", "constant", "nearest"):
        for interpolation in ("bilinear", "nearest"):
            args = {"factor": 0.3, "fill_mode": fill, "interpolation": interpolation}
            if fill == "constant":
                args["fill_value"] = 0.5
            yield f"rotation_{fill}_{interpolation}", rotation(args, small, [33.0, -101.0])
            shift_args = {k: v for k, v in args.items() if k != "factor"}
            shift_args |= {"height_factor": 0.5, "width_factor": 0.5}
            zooms = np.array([[0.8, 1.3], [1.45, 0.65]], dtype="float32")  # (width, height)
            yield (
                f"zoom_{fill}_{interpolation}",
                augmentation(
                    "RandomZoom",
                    shift_args,
                    small,
                    {"width_zoom": zooms[:, :1], "height_zoom": zooms[:, 1:]},
                    zooms.tolist(),
                ),
            )
            shifts = np.array([[1.3, -0.6], [-2.2, 1.7]], dtype="float32")  # (dx, dy) pixels
            yield (
                f"translation_{fill}_{interpolation}",
                augmentation(
                    "RandomTranslation",
                    shift_args,
                    small,
                    {"translations": shifts},
                    shifts.tolist(),
                ),
            )
    contrast = np.array([1.4, 0.55], dtype="float32").reshape(2, 1, 1, 1)
    yield (
        "contrast",
        augmentation(
            "RandomContrast",
            {"factor": 0.5},
            img,
            {"contrast_factor": contrast},
            contrast.ravel().tolist(),
        ),
    )
    yield (
        "contrast_unit_range",
        augmentation(
            "RandomContrast",
            {"factor": [0.3, 0.6], "value_range": [0, 1]},
            small,
            {"contrast_factor": contrast},
            contrast.ravel().tolist(),
        ),
    )
    delta = np.array([60.0, -45.0], dtype="float32").reshape(2, 1, 1, 1)
    yield (
        "brightness",
        augmentation(
            "RandomBrightness", {"factor": 0.3}, img, {"rgb_delta": delta}, delta.ravel().tolist()
        ),
    )
    yield (
        "brightness_unit_range",
        augmentation(
            "RandomBrightness",
            {"factor": [-0.2, 0.5], "value_range": [1, 0]},
            small,
            {"rgb_delta": delta / 255.0},
            (delta / 255.0).ravel().tolist(),
        ),
    )
    case = augmentation("RandomCrop", {"height": 3, "width": 4}, img, {"corner": (1, 2)}, [1, 2])
    # Keras 3.15 returns the images unchanged at inference (`inference` above); the
    # centred window it computes for that case, applied, is what Cornu gives instead.
    layer = layers.RandomCrop(3, 4)
    images = keras.ops.convert_to_tensor(img)
    centred = layer.get_random_transformation(images, training=False)
    case["centred"] = listed(layer.transform_images(images, centred, training=True))
    yield "random_crop", case
    # Images not larger than the window in both dimensions: no random draw; Keras's
    # window from the centred aspect-ratio crop's corner, resized.
    layer, case = described("RandomCrop", {"height": 5, "width": 2}, small)
    case["inference"] = listed(layer(small, training=False))
    case["training"] = listed(layer(small, training=True))
    case["draw"] = None
    yield "random_crop_smaller", case


def colour_cases():
    rgb = data(2, 4, 5, 3, high=255.0)
    unit = data(2, 4, 5, 3)
    flat = rgb.copy()
    flat[1, :, :, 0] = 77.0  # a constant channel: AutoContrast leaves it
    n = 2

    def column(*values, dtype="float32"):
        return np.array(values, dtype=dtype).reshape(n, 1, 1, 1)

    grey = column(True, False, dtype="bool")
    yield "grayscale", augmentation("RandomGrayscale", {}, rgb, grey, grey.ravel().tolist())
    yield (
        "grayscale_one_channel",
        augmentation("RandomGrayscale", {"factor": 0.3}, rgb[..., :1], grey, grey.ravel().tolist()),
    )
    additions, thresholds = column(20.0, 35.0), column(100.0, 180.0)
    for name, args, x, scale in (
        ("solarization", {"addition_factor": 0.2, "threshold_factor": [0.3, 0.8]}, rgb, 1),
        ("solarization_unit_range", {"threshold_factor": 0.9, "value_range": [1, 0]}, unit, 1),
    ):
        yield (
            name,
            augmentation(
                "Solarization",
                args,
                x,
                {"additions": additions * scale, "thresholds": thresholds},
                [additions.ravel().tolist(), thresholds.ravel().tolist()],
            ),
        )
    invert = np.array([True, False])
    yield (
        "invert",
        augmentation("RandomInvert", {}, rgb, {"apply_inversion": invert}, invert.tolist()),
    )
    yield (
        "invert_unit_range",
        augmentation(
            "RandomInvert",
            {"factor": 0.4, "value_range": [0, 1]},
            unit,
            {"apply_inversion": invert[::-1].copy()},
            invert[::-1].tolist(),
        ),
    )
    shift = np.array([5, 3], dtype="uint8")
    yield (
        "posterization",
        augmentation(
            "RandomPosterization", {"factor": 4}, rgb, {"shift_factor": shift}, shift.tolist()
        ),
    )
    yield (
        "posterization_unit_range",
        augmentation(
            "RandomPosterization",
            {"factor": [2, 6], "value_range": [0, 1]},
            unit,
            {"shift_factor": shift[::-1].copy()},
            shift[::-1].tolist(),
        ),
    )
    yield "auto_contrast", deterministic("AutoContrast", {}, flat)
    yield "auto_contrast_unit_range", deterministic("AutoContrast", {"value_range": [0, 1]}, unit)
    factor = np.array([0.1, 0.85], dtype="float32")
    yield (
        "sharpness",
        augmentation("RandomSharpness", {"factor": 0.5}, rgb, {"factor": factor}, factor.tolist()),
    )
    hue = np.array([0.2, -0.35], dtype="float32")
    yield "hue", augmentation("RandomHue", {"factor": 0.8}, rgb, {"factor": hue}, hue.tolist())
    yield (
        "hue_unit_range",
        augmentation(
            "RandomHue", {"factor": 0.8, "value_range": [0, 1]}, unit, {"factor": hue}, hue.tolist()
        ),
    )
    saturation = np.array([1.6, 0.3], dtype="float32")
    yield (
        "saturation",
        augmentation(
            "RandomSaturation",
            {"factor": 0.5, "value_range": [0, 1]},
            unit,
            {"factor": saturation},
            saturation.tolist(),
        ),
    )
    yield (
        "saturation_value_range_quirk",
        augmentation(
            "RandomSaturation", {"factor": 0.5}, rgb, {"factor": saturation}, saturation.tolist()
        ),
    )
    degeneration = column(0.3, -0.6)
    yield (
        "color_degeneration",
        augmentation(
            "RandomColorDegeneration",
            {"factor": 0.7},
            rgb,
            {"factor": degeneration},
            degeneration.ravel().tolist(),
        ),
    )
    shear = np.array([[0.2, -0.1], [-0.3, 0.25]], dtype="float32")
    for fill, interpolation in (("reflect", "bilinear"), ("constant", "nearest")):
        yield (
            f"shear_{fill}_{interpolation}",
            augmentation(
                "RandomShear",
                {
                    "x_factor": 0.3,
                    "y_factor": [0.1, 0.3],
                    "fill_mode": fill,
                    "interpolation": interpolation,
                    "fill_value": 9.0,
                },
                rgb,
                {"shear_factor": shear},
                shear.tolist(),
            ),
        )
    blur, sigma = np.array([True, False]), np.array([0.7, 1.3], dtype="float32")
    for size in (3, 5):
        yield (
            f"gaussian_blur_{size}",
            augmentation(
                "RandomGaussianBlur",
                {"kernel_size": size, "sigma": [0.5, 1.0]},
                rgb,
                {"should_apply_blur": blur, "blur_factor": sigma},
                [blur.tolist(), sigma.tolist()],
            ),
        )


def jitter(args, x, draws):
    """RandomColorJitter with given draws: Keras's own inner layers, in its order."""
    layer, case = described("RandomColorJitter", args, x)
    case["inference"] = listed(layer(x, training=False))
    images = keras.ops.convert_to_tensor(x)
    parts = (
        ("brightness_factor", "random_brightness", "rgb_delta"),
        ("contrast_factor", "random_contrast", "contrast_factor"),
        ("saturation_factor", "random_saturation", "factor"),
        ("hue_factor", "random_hue", "factor"),
    )
    used = [(getattr(layer, attr), key) for arg, attr, key in parts if arg in args]
    for (part, key), drawn in zip(used, draws, strict=True):
        given = {key: keras.ops.convert_to_tensor(np.asarray(drawn, dtype="float32"))}
        images = part.transform_images(images, given)
    case["training"] = listed(images)
    case["draw"] = [np.asarray(d).tolist() for d in draws]
    return case


def more_cases():
    rgb = data(2, 4, 5, 3, high=255.0)
    unit = data(2, 4, 5, 3)
    yield "equalization", augmentation("Equalization", {}, rgb, None, None)
    yield (
        "equalization_bins",
        augmentation("Equalization", {"bins": 16, "value_range": [0, 1]}, unit, None, None),
    )
    column = np.array([30.0, -20.0], dtype="float32").reshape(2, 1, 1, 1)
    yield (
        "color_jitter",
        jitter(
            {
                "brightness_factor": 0.2,
                "contrast_factor": 0.5,
                "saturation_factor": 0.4,
                "hue_factor": 0.3,
            },
            rgb,
            [
                column,
                column / 20 + 1,
                np.array([0.6, 1.3], "float32"),
                np.array([0.1, -0.2], "float32"),
            ],
        ),
    )
    yield (
        "color_jitter_some",
        jitter(
            {"value_range": [0, 1], "contrast_factor": [0.2, 0.4], "hue_factor": 0.5},
            unit,
            [column / 50 + 1, np.array([-0.15, 0.05], "float32")],
        ),
    )
    layer = layers.RandomErasing(fill_value=[10.0, 20.0, 300.0])
    boxes = np.array([[0.5, 3.2, 1.0, 2.5], [1.7, 4.9, 0.2, 3.9]], dtype="float32")
    images = keras.ops.convert_to_tensor(rgb)
    corners = tuple(keras.ops.convert_to_tensor(c) for c in boxes.T)
    masks = layer._generate_batch_mask(rgb.shape, corners)
    fill = layer._get_fill_value(images, rgb.shape, None)
    erase = np.array([True, True])
    yield (
        "erasing",
        augmentation(
            "RandomErasing",
            {"fill_value": [10.0, 20.0, 300.0]},
            rgb,
            {"apply_erasing": erase, "batch_masks": masks, "fill_value": fill},
            [erase.tolist(), boxes.tolist(), listed(fill)],
        ),
    )
    erase = np.array([False, True])
    layer = layers.RandomErasing(fill_value=0.5, value_range=[0, 1])
    fill = layer._get_fill_value(keras.ops.convert_to_tensor(unit), unit.shape, None)
    yield (
        "erasing_unit_range",
        augmentation(
            "RandomErasing",
            {"fill_value": 0.5, "value_range": [0, 1], "scale": 0.5},
            unit,
            {"apply_erasing": erase, "batch_masks": masks, "fill_value": fill},
            [erase.tolist(), boxes.tolist(), listed(fill)],
        ),
    )


def perspective_cases():
    rgb = data(2, 5, 6, 3, high=255.0)
    height, width = rgb.shape[1:3]
    start = np.array(
        [[0, 0], [width - 1, 0], [0, height - 1], [width - 1, height - 1]], dtype="float32"
    )
    start = np.repeat(start[None], 2, axis=0)
    offsets = np.array(
        [
            [[0.1, -0.2], [-0.15, 0.2], [0.05, -0.1], [-0.2, -0.05]],
            [[0.0, 0.1], [0.12, -0.08], [-0.18, 0.02], [0.07, 0.15]],
        ],
        dtype="float32",
    )
    end = start + start * offsets
    apply = np.array([True, True])
    for interpolation in ("bilinear", "nearest"):
        yield (
            f"perspective_{interpolation}",
            augmentation(
                "RandomPerspective",
                {"scale": 0.5, "interpolation": interpolation, "fill_value": 5.0},
                rgb,
                {"apply_perspective": apply, "start_points": start, "end_points": end},
                [apply.tolist(), end.tolist()],
            ),
        )


def other_cases():
    table = data(6, 3, low=-2.0, high=5.0)
    yield (
        "normalization_scalar",
        deterministic("Normalization", {"mean": 2.0, "variance": 4.0}, table),
    )
    yield (
        "normalization_features",
        deterministic(
            "Normalization", {"mean": [1.0, -0.5, 3.0], "variance": [0.25, 2.0, 9.0]}, table
        ),
    )
    yield (
        "normalization_invert",
        deterministic(
            "Normalization",
            {"mean": [1.0, -0.5, 3.0], "variance": [0.25, 2.0, 9.0], "invert": True},
            table,
        ),
    )
    cube = data(3, 2, 4, low=-1.0, high=1.0)
    yield (
        "normalization_two_axes",
        deterministic(
            "Normalization",
            {"axis": [1, 2], "mean": [0.5, -0.25, 0.0, 1.0], "variance": [1.0, 0.5, 2.0, 4.0]},
            cube,
        ),
    )
    weights = {
        "mean": data(3, low=-1, high=1),
        "variance": data(3, low=0.5, high=2),
        "count": np.array(0, dtype="int32"),
    }
    yield "normalization_weights", deterministic("Normalization", {}, table, weights)
    yield (
        "normalization_weights_invert",
        deterministic("Normalization", {"invert": True}, table, weights),
    )
    yield (
        "normalization_axis_none",
        deterministic(
            "Normalization",
            {"axis": None},
            cube,
            {
                "mean": np.array(0.2, "float32"),
                "variance": np.array(0.3, "float32"),
                "count": np.array(0, "int32"),
            },
        ),
    )
    yield (
        "normalization_zero_variance",
        deterministic("Normalization", {"mean": 1.0, "variance": 0.0}, table),
    )
    ids = np.array([[0, 2, 2, 4], [3, 3, 3, 1], [-1, 0, 1, 4]], dtype="int32")
    for mode in ("one_hot", "multi_hot", "count"):
        yield (
            f"category_{mode}",
            deterministic("CategoryEncoding", {"num_tokens": 5, "output_mode": mode}, ids),
        )
    yield (
        "category_one_hot_column",
        deterministic("CategoryEncoding", {"num_tokens": 5, "output_mode": "one_hot"}, ids[:, :1]),
    )


def without_tensorflow():
    """Keras's adapt asks `isinstance(data, tf.data.Dataset)` before it handles a list of
    batches, which fails where TensorFlow is not installed (as here): a stand-in class
    answers no, and the rest of `adapt` runs as written."""
    from types import SimpleNamespace

    from keras.src.layers.preprocessing import normalization

    normalization.tf = SimpleNamespace(data=SimpleNamespace(Dataset=type("Dataset", (), {})))


def adapt_cases():
    without_tensorflow()
    x = data(40, 3, low=-3.0, high=7.0)
    batches = [data(16, 2, 3), data(7, 2, 3), data(9, 2, 3)]
    out = {}
    for name, args, given in (
        ("array", {}, x),
        ("array_axis_none", {"axis": None}, x),
        ("batches", {}, batches),
        ("batches_two_axes", {"axis": [1, 2]}, batches),
    ):
        layer = layers.Normalization(**args)
        layer.adapt(given)
        inputs = given if isinstance(given, np.ndarray) else np.concatenate(given)
        out[name] = {
            "args": args,
            "data": given.tolist()
            if isinstance(given, np.ndarray)
            else [b.tolist() for b in given],
            "weights": {w.path.split("/", 1)[1]: listed(w) for w in layer.weights},
            "output": listed(layer(inputs[:4])),
        }
    return out


def main():
    cases = dict(image_cases()) | dict(colour_cases()) | dict(more_cases())
    cases |= dict(perspective_cases()) | dict(other_cases())
    adapt = adapt_cases()
    # One line per case: the nested images would take ten times the room indented.
    lines = []
    for group, entries in (("cases", cases), ("adapt", adapt)):
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in entries.items())
        lines.append(f"{json.dumps(group)}: {{\n{body}\n}}")
    path = OUT / "preprocessing_outputs.json"
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print("wrote", path.name)


if __name__ == "__main__":
    main()
