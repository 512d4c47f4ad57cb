"""Compute the `reference` of every corpus file and write it into index.json.

    python3 tests/compat/model_json/make_reference.py [--keras3-python P] [--tf-python P] [FILE ...]

For each model JSON file named in index.json (or only the FILEs given; the others keep
their reference):

1. Keras 3 (`--keras3-python`, default /work/main/.venv/bin/python, run with
   KERAS_BACKEND=torch) loads it with `keras.models.model_from_json`. Where that works the
   reference is Keras's own: `count_params()` of every layer of `model.layers`, the output
   shape of its first node without the batch axis, and the model's trainable and
   non-trainable weight counts; `"from": "keras <version>"`.
2. Files Keras 3 cannot load go to tf.keras 2 (`--tf-python`, default
   /work/tf-ref/bin/python, a virtual environment outside the repository with
   `tensorflow-cpu==2.15.*`), with `tf.keras.models.model_from_json`;
   `"from": "tf.keras <version>"`.
3. Files neither can load (Keras 1 `Merge`, custom classes, Lambda bytecode) get
   `hand_count()` below where every layer type is one whose weights it knows, with
   `"from": "hand count"`; otherwise `reference` is null and the failure is printed.

Files from Keras 2 that Keras 3 loads are also loaded by tf.keras 2 as a cross-check;
differences in the totals are printed (they are not written anywhere).

The two Keras installations run one after the other, each as a single process
(`--worker`), never both at once.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
INDEX = HERE / "index.json"
KERAS3_PYTHON = "/work/main/.venv/bin/python"
TF_PYTHON = "/work/tf-ref/bin/python"


# ----------------------------------------------------------------------------- workers
def _shape(x):
    """Shape without the batch axis; a list of shapes for layers with several outputs."""
    if isinstance(x, dict):
        return {k: _shape(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_shape(v) for v in x]
    s = x.shape
    s = s.as_list() if hasattr(s, "as_list") else list(s)
    return [None if d is None else int(d) for d in s[1:]]


def _weights(ws) -> int:
    import numpy as np

    return int(sum(int(np.prod([int(d) for d in w.shape])) for w in ws))


def worker(kind: str, files: list[str], out_path: str) -> None:
    if kind == "keras3":
        import keras

        load = keras.models.model_from_json
        origin = f"keras {keras.__version__}"

        def first_output(layer):
            return layer.output

    else:
        import tensorflow as tf

        load = tf.keras.models.model_from_json
        origin = f"tf.keras {tf.__version__}"

        def first_output(layer):
            return layer.get_output_at(0)

    results = {}
    for f in files:
        try:
            model = load(Path(f).read_text())
            layers = []
            for layer in model.layers:
                try:
                    shape = _shape(first_output(layer))
                except Exception:  # noqa: BLE001 - a layer without a known output
                    shape = None
                layers.append([layer.name, type(layer).__name__, shape, int(layer.count_params())])
            trainable = _weights(model.trainable_weights)
            non_trainable = _weights(model.non_trainable_weights)
            results[Path(f).name] = {
                "total_params": trainable + non_trainable,
                "trainable_params": trainable,
                "non_trainable_params": non_trainable,
                "layers": layers,
                "from": origin,
            }
        except Exception as e:  # noqa: BLE001 - recorded as this loader's failure
            results[Path(f).name] = {"error": f"{type(e).__name__}: {str(e)[:300]}"}
    Path(out_path).write_text(json.dumps(results))


def run_worker(python: str, kind: str, files: list[Path]) -> dict:
    if not files:
        return {}
    with tempfile.TemporaryDirectory(prefix="model-json-ref-") as tmp:
        out = Path(tmp) / "out.json"
        env = {
            **os.environ,
            "KERAS_BACKEND": "torch",
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "CUDA_VISIBLE_DEVICES": "",
        }
        subprocess.run(
            [
                python,
                str(Path(__file__).resolve()),
                "--worker",
                kind,
                "--out",
                str(out),
                *map(str, files),
            ],
            env=env,
            check=True,
            cwd=tmp,
        )
        return json.loads(out.read_text())


# ----------------------------------------------------------------------------- rewrites
# For files that neither Keras loads as published. Each rewrite keeps every weight's shape,
# so the counts are those of the published model; the ones applied are listed in the
# reference's "rewrites".
def _walk(obj, fn):
    if isinstance(obj, dict):
        fn(obj)
        for v in obj.values():
            _walk(v, fn)
    elif isinstance(obj, list):
        for v in obj:
            _walk(v, fn)


def rw_compile_config(m: dict) -> str | None:
    """Keras 3 compiles a model whose JSON carries `compile_config`; a custom metric or loss
    named there stops the load. The architecture does not depend on it."""
    if "compile_config" in m:
        del m["compile_config"]
        return "compile_config removed"
    return None


def rw_embedding_int32(m: dict) -> str | None:
    """Keras 2.0's Embedding kept `dtype: int32` (the input's); tf.keras 2 takes a layer's
    dtype as its weights' and refuses an integer one. The embedding matrix is float."""
    hit = []

    def fn(d):
        if d.get("class_name") == "Embedding" and d.get("config", {}).get("dtype") == "int32":
            d["config"]["dtype"] = "float32"
            hit.append(d["config"].get("name"))

    _walk(m, fn)
    return f"Embedding dtype int32 -> float32 ({', '.join(hit)})" if hit else None


def rw_merge(m: dict) -> str | None:
    """Keras 1's `Merge` layer (still written by Keras 2.0 for `merge([...], mode=...)`)
    -> the Keras 2 merge layer of the same mode; merge layers have no weights."""
    modes = {
        "concat": "Concatenate",
        "sum": "Add",
        "mul": "Multiply",
        "ave": "Average",
        "max": "Maximum",
    }
    hit = []

    def fn(d):
        if d.get("class_name") == "Merge" and isinstance(d.get("config"), dict):
            c = d["config"]
            d["class_name"] = modes[c["mode"]]
            d["config"] = {"name": c["name"], "trainable": True}
            if c["mode"] == "concat":
                d["config"]["axis"] = c.get("concat_axis", -1)
            hit.append(c["name"])

    _walk(m, fn)
    return f"Merge -> Keras 2 merge layer ({', '.join(hit)})" if hit else None


def rw_qkeras(m: dict) -> str | None:
    """QKeras layers -> the Keras layers they extend (same kernel and bias shapes);
    QActivation (no weights) -> a linear Activation."""
    hit = []
    base = {"QDense": "Dense", "QConv2D": "Conv2D", "QConv1D": "Conv1D"}

    def fn(d):
        cn = d.get("class_name")
        if cn in base and isinstance(d.get("config"), dict):
            d["class_name"] = base[cn]
            for k in ("kernel_quantizer", "bias_quantizer", "kernel_range", "bias_range"):
                d["config"].pop(k, None)
            # QKeras's own initializer and constraint wrappers: plain ones (no weights)
            for k in ("kernel_initializer", "bias_initializer"):
                d["config"][k] = "zeros"
            for k in ("kernel_constraint", "bias_constraint"):
                d["config"][k] = None
            hit.append(cn)
        elif cn == "QActivation" and isinstance(d.get("config"), dict):
            d["class_name"] = "Activation"
            d["config"]["activation"] = "linear"
            hit.append(cn)

    _walk(m, fn)
    return f"QKeras -> Keras ({', '.join(sorted(set(hit)))})" if hit else None


REWRITES = [rw_compile_config, rw_embedding_int32, rw_merge, rw_qkeras]


def rewrite(m: dict) -> list[str]:
    return [r for r in (fn(m) for fn in REWRITES) if r]


# ----------------------------------------------------------------------------- hand count
# Weights per layer, written out, for graphs of dense layers (what the remaining
# unloadable files need: BinaryNet's `BinaryDense`). `fan_in` is the last axis of the
# layer's input; only last axes are followed, so any layer type not listed here (a
# convolution, a Flatten, a recurrent layer...) makes the count give up (None).
SHAPE_KEEPING = {"InputLayer", "Activation", "Dropout", "LeakyReLU", "QActivation"}


def _dense_like(cfg: dict, fan_in: int) -> int:
    # Dense, BinaryDense, QDense: kernel (fan_in x units) + bias (units) when use_bias
    units = cfg["units"]
    return fan_in * units + (units if cfg.get("use_bias", True) else 0)


def _batchnorm(cfg: dict, fan_in: int) -> tuple[int, int]:
    # gamma (if scale) and beta (if center) are trainable; the moving mean and variance not
    return fan_in * (int(cfg.get("scale", True)) + int(cfg.get("center", True))), 2 * fan_in


def hand_count(model_json: dict) -> dict | None:
    cfg = model_json["config"]
    layers = cfg if isinstance(cfg, list) else cfg["layers"]
    width: dict[str, int] = {}  # layer name -> last axis of its output
    rows, trainable, non_trainable, prev = [], 0, 0, None
    for spec in layers:
        cls, c = spec["class_name"], spec["config"]
        name = c.get("name", spec.get("name"))
        nodes = spec.get("inbound_nodes")
        ins = [n[0] for n in nodes[0]] if nodes else ([prev] if prev else [])
        if len(ins) > 1:
            return None
        fan_in = c["batch_input_shape"][-1] if c.get("batch_input_shape") else width[ins[0]]
        t = n = 0
        if cls in ("Dense", "BinaryDense", "QDense"):
            t, out = _dense_like(c, fan_in), c["units"]
        elif cls == "BatchNormalization":
            (t, n), out = _batchnorm(c, fan_in), fan_in
        elif cls in SHAPE_KEEPING:
            out = fan_in
        else:
            return None
        width[name] = out
        rows.append([name, cls, [out], t + n])
        trainable, non_trainable, prev = trainable + t, non_trainable + n, name
    return {
        "total_params": trainable + non_trainable,
        "trainable_params": trainable,
        "non_trainable_params": non_trainable,
        "layers": rows,
        "from": "hand count",
    }


# ----------------------------------------------------------------------------- driver
def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", nargs="*")
    ap.add_argument("--keras3-python", default=KERAS3_PYTHON)
    ap.add_argument("--tf-python", default=TF_PYTHON)
    ap.add_argument("--worker", choices=["keras3", "tf"])
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.files, args.out)
        return

    index = json.loads(INDEX.read_text())
    wanted = {Path(f).name for f in args.files} or {e["file"] for e in index}
    entries = [e for e in index if e["file"] in wanted]
    paths = [HERE / e["file"] for e in entries]

    k3 = run_worker(args.keras3_python, "keras3", paths)
    need_tf = [
        HERE / e["file"]
        for e in entries
        if "error" in k3[e["file"]] or not e["file"].startswith("k3_")
    ]
    tf = run_worker(args.tf_python, "tf", need_tf)

    # files neither loads: retry with the rewrites above, Keras 3 first, then tf.keras
    failed = [
        e["file"]
        for e in entries
        if "error" in k3[e["file"]] and "error" in tf.get(e["file"], {"error": ""})
    ]
    rewritten, applied = {}, {}
    with tempfile.TemporaryDirectory(prefix="model-json-rw-") as tmp:
        for f in failed:
            m = json.loads((HERE / f).read_text())
            done = rewrite(m)
            if done:
                applied[f] = done
                (Path(tmp) / f).write_text(json.dumps(m))
        rw_paths = [Path(tmp) / f for f in applied]
        rk3 = run_worker(args.keras3_python, "keras3", rw_paths)
        rtf = run_worker(args.tf_python, "tf", [p for p in rw_paths if "error" in rk3[p.name]])
    for f in applied:
        for res in (rk3.get(f), rtf.get(f)):
            if res and "error" not in res:
                rewritten[f] = {**res, "rewrites": applied[f]}
                break

    for e in entries:
        f = e["file"]
        ref = None
        if "error" not in k3[f]:
            ref = k3[f]
            other = tf.get(f)
            if other and "error" not in other:
                for key in ("total_params", "trainable_params", "non_trainable_params"):
                    if other[key] != ref[key]:
                        print(f"cross-check {f}: {key} keras3={ref[key]} tf.keras={other[key]}")
        elif f in tf and "error" not in tf[f]:
            ref = tf[f]
            print(f"{f}: Keras 3 cannot load it ({k3[f]['error'][:120]}); tf.keras used")
        elif f in rewritten:
            ref = rewritten[f]
            print(f"{f}: loaded after rewrites {ref['rewrites']} by {ref['from']}")
        else:
            try:
                ref = hand_count(json.loads((HERE / f).read_text()))
            except Exception:  # noqa: BLE001 - a form the counter does not follow
                ref = None
            tf_error = tf.get(f, {}).get("error", "")
            why = f"keras3: {k3[f]['error'][:160]} | tf.keras: {tf_error[:160]}"
            print(f"{f}: neither loads it ({why}); {'hand count' if ref else 'no reference'}")
        e["reference"] = ref
    INDEX.write_text(json.dumps(index, indent=1) + "\n")


if __name__ == "__main__":
    main()
