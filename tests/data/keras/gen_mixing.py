"""Keras 3 reference outputs for MixUp, CutMix and MaxNumBoundingBoxes on image tensors
(what a model's layers get: Keras passes `x`, never the labels, through a model).

mixing_outputs.json holds:
- `cases`: a layer's arguments, its input, Keras's output shape, parameter count and
  weight names; `inference = layer(x, training=False)`; `training`, what Keras's own
  `transform_images(x, transformation, training=True)` gives for a chosen
  transformation, stored in Cornu's form as `draw`: MixUp's `(permutation, mix
  weights)`; CutMix's `(permutation, boxes x0, x1, y0, y1)`, the boxes turned into
  Keras's masks by its own `_generate_batch_mask`. MaxNumBoundingBoxes's `training` is
  `layer(x, training=True)`.
- `draws`: deciles of the random numbers Keras's own `get_random_transformation` draws
  over 400 batches of 50 (MixUp's mix weight; CutMix's label weight, one minus the
  pasted area's share, and the deciles of its variance within each batch), for a
  statistical comparison with Cornu's draws.
- `configs`: Keras's `get_config` of each layer (MaxNumBoundingBoxes does not write
  its `fill_value`).

Produced with python 3.11, keras 3.15.1 (torch backend), torch 2.13.0+cpu, numpy 2.4.6.
Regenerate (from the repository root):
    KERAS_BACKEND=torch .venv/bin/python tests/data/keras/gen_mixing.py
"""

import json

from keras_ref import OUT, keras, layers, np

rng = np.random.default_rng(20260511)


def data(*shape, low=0.0, high=1.0):
    """Inputs rounded to 3 decimals, so the JSON holds them exactly."""
    return np.round(rng.uniform(low, high, shape), 3).astype("float32")


def listed(x):
    return np.round(keras.ops.convert_to_numpy(x).astype("float64"), 7).tolist()


def described(kind, args, x):
    layer = getattr(layers, kind)(**args)
    layer.build(x.shape)
    return (
        layer,
        {
            "layer": {"type": kind, **args},
            "input": np.round(x.astype("float64"), 3).tolist(),
            "output_shape": list(layer.compute_output_shape((None, *x.shape[1:]))[1:]),
            "params": layer.count_params(),
            "weights": [w.path.split("/", 1)[1] for w in layer.weights],
        },
    )


def mix_up(args, x, permutation, weights):
    layer, case = described("MixUp", args, x)
    case["inference"] = listed(layer(x, training=False))
    given = {
        "permutation_order": keras.ops.convert_to_tensor(np.array(permutation, "int64")),
        "mix_weight": keras.ops.convert_to_tensor(np.array(weights, "float32")),
    }
    images = keras.ops.convert_to_tensor(x)
    case["training"] = listed(layer.transform_images(images, given, training=True))
    case["draw"] = [permutation, weights]
    return case


def cut_mix(args, x, permutation, boxes):
    layer, case = described("CutMix", args, x)
    case["inference"] = listed(layer(x, training=False))
    boxes = np.array(boxes, dtype="float32")
    corners = tuple(keras.ops.convert_to_tensor(c) for c in boxes.T)  # x0, x1, y0, y1
    masks, label_weight = layer._generate_batch_mask(x.shape, corners)
    given = {
        "permutation_order": keras.ops.convert_to_tensor(np.array(permutation, "int32")),
        "batch_masks": masks,
        "mix_weight": label_weight,
    }
    images = keras.ops.convert_to_tensor(x)
    case["training"] = listed(layer.transform_images(images, given, training=True))
    case["label_weight"] = listed(label_weight)
    case["draw"] = [permutation, boxes.tolist()]
    return case


def cases():
    img = data(4, 5, 6, 3, high=255.0)
    grey = data(3, 4, 7, 1)
    yield "mix_up", mix_up({}, img, [2, 0, 3, 1], [0.9, 0.25, 1.0, 0.0])
    yield "mix_up_fixed_point", mix_up({"alpha": 1.5, "seed": 4}, grey, [1, 0, 2], [0.6, 0.3, 0.7])
    boxes = [[0.5, 3.2, 1.0, 2.5], [1.7, 4.9, 0.2, 3.9], [0.0, 6.0, 0.0, 5.0], [2.0, 2.0, 1.0, 1.0]]
    yield "cut_mix", cut_mix({}, img, [3, 2, 1, 0], boxes)
    yield (
        "cut_mix_factor",
        cut_mix(
            {"factor": [0.2, 0.7], "seed": 1},
            grey,
            [2, 1, 0],
            [[1.25, 5.75, 0.5, 3.5], [0.0, 0.0, 0.0, 0.0], [6.1, 7.0, 3.0, 4.0]],
        ),
    )
    for name, args in (("max_num_boxes", {"max_number": 3}),
                       ("max_num_boxes_fill", {"max_number": 0, "fill_value": 7})):  # fmt: skip
        layer, case = described("MaxNumBoundingBoxes", args, img)
        case["inference"] = listed(layer(img, training=False))
        case["training"] = listed(layer(img, training=True))
        yield name, case


def deciles(values):
    return np.quantile(np.concatenate(values), np.linspace(0.1, 0.9, 9)).round(5).tolist()


def draws():
    """Keras's own random draws: MixUp's mix weights, CutMix's label weights."""
    images = keras.ops.convert_to_tensor(np.zeros((50, 6, 8, 1), "float32"))
    out = {}
    for alpha in (0.2, 1.0):
        layer = layers.MixUp(alpha=alpha, seed=11)
        weights = [
            keras.ops.convert_to_numpy(layer.get_random_transformation(images)["mix_weight"])
            for _ in range(400)
        ]
        out[f"mix_up_alpha_{alpha}"] = {"layer": {"type": "MixUp", "alpha": alpha},
                                        "deciles": deciles(weights)}  # fmt: skip
    for factor in (1.0, [0.5, 0.5]):
        layer = layers.CutMix(factor=factor, seed=12)
        weights = [
            keras.ops.convert_to_numpy(layer.get_random_transformation(images)["mix_weight"])
            for _ in range(400)
        ]
        key = "cut_mix_factor_" + ("1" if factor == 1.0 else "half")
        # `a` is drawn once per batch: how much the weights vary within a batch varies
        # from batch to batch (one `a` per image would give every batch the same spread).
        spreads = [np.array([w.ravel().var()]) for w in weights]
        out[key] = {"layer": {"type": "CutMix", "factor": factor}, "image": [6, 8],
                    "deciles": deciles([w.ravel() for w in weights]),
                    "batch_variance_deciles": deciles(spreads)}  # fmt: skip
    return out


def configs():
    built = [layers.MixUp(), layers.CutMix(0.3), layers.MaxNumBoundingBoxes(4, fill_value=9)]
    return {type(layer).__name__: json.loads(json.dumps(layer.get_config())) for layer in built}


def main():
    groups = {"cases": dict(cases()), "draws": draws(), "configs": configs()}
    lines = []
    for group, entries in groups.items():
        body = ",\n".join(f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in entries.items())
        lines.append(f"{json.dumps(group)}: {{\n{body}\n}}")
    path = OUT / "mixing_outputs.json"
    path.write_text("{\n" + ",\n".join(lines) + "\n}\n")
    print("wrote", path.name)


if __name__ == "__main__":
    main()
