"""`plot_model` and `model_to_dot`: Keras's labels without the service, shapes from the
service, a PNG and SVG drawn by the SDK without Graphviz, and Graphviz's when present.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import cornu
from cornu import layers, models, utils


def sequential() -> models.Sequential:
    cornu.backend.clear_session()  # Keras's first default names: dense, dropout, dense_1
    model = models.Sequential(name="mlp")
    model.add(layers.Dense(32, activation="relu", input_shape=(784,)))
    model.add(layers.Dropout(0.5))
    model.add(layers.Dense(10, activation="softmax"))
    return model


def two_towers() -> models.Model:
    a, b = layers.Input(shape=(16,), name="a"), layers.Input(shape=(16,), name="b")
    shared = layers.Dense(8, activation="relu", name="shared")
    merged = layers.Concatenate(name="concat")([shared(a), shared(b)])
    return models.Model(inputs=[a, b], outputs=layers.Dense(1, name="out")(merged))


def test_model_to_dot_writes_keras_labels_without_the_service() -> None:
    dot = utils.model_to_dot(sequential(), show_layer_activations=True).to_string()
    assert dot.startswith('digraph "mlp" {') and "rankdir=TB;" in dot and "dpi=200;" in dot
    assert "<b>dense</b> (Dense)" in dot and "<b>dropout</b> (Dropout)" in dot
    assert "Activation: <b>relu</b>" in dot and "Activation: <b>softmax</b>" in dot
    assert '"dense" -> "dropout" [penwidth=2];' in dot and '"dropout" -> "dense_1"' in dot
    graph = utils.model_to_dot(two_towers()).graph
    assert [b.key for b in graph.boxes] == ["a", "b", "shared", "concat", "out"]
    assert graph.edges == [
        ("a", "shared"),
        ("b", "shared"),
        ("shared", "concat"),
        ("concat", "out"),
    ]
    with pytest.raises(ValueError, match="rankdir=UP"):
        utils.model_to_dot(sequential(), rankdir="UP")
    with pytest.raises(ValueError, match="`layer_range` is no longer supported"):
        utils.plot_model(sequential(), layer_range=["a", "b"])
    with pytest.raises(ValueError, match="Unrecognized keyword arguments"):
        utils.plot_model(sequential(), colors=True)


def test_plot_model_draws_a_png_and_svg_without_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on the PATH: Cornu draws it
    tall = tmp_path / "tall.png"
    deep = models.Sequential(
        [layers.Dense(8, input_shape=(4,))] + [layers.Dense(8) for _ in range(4)]
    )
    shown = utils.plot_model(deep, to_file=tall, show_layer_names=True)
    with Image.open(tall) as image:
        image.load()
        assert image.format == "PNG" and image.height > 1.5 * image.width > 200  # five boxes, down
        pixels = np.asarray(image.convert("L"))
    assert (pixels < 50).mean() > 0.05 and (pixels > 200).mean() > 0.3  # black boxes on white
    from IPython.display import Image as IPythonImage

    assert isinstance(shown, IPythonImage)  # as Keras, when IPython is installed
    wide = tmp_path / "wide.png"
    utils.plot_model(deep, to_file=wide, rankdir="LR", dpi=96)
    with Image.open(wide) as image:
        assert image.width > 1.5 * image.height
        assert image.info["dpi"][0] == pytest.approx(96, abs=0.1)
    svg = tmp_path / "towers.svg"
    utils.plot_model(two_towers(), to_file=svg, show_layer_names=True)
    root = ET.parse(svg).getroot()
    texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert texts == ["a (InputLayer)", "b (InputLayer)", "shared (Dense)", "concat (Concatenate)",
                     "out (Dense)"]  # fmt: skip
    assert len(list(root.iter("{http://www.w3.org/2000/svg}polyline"))) == 4
    utils.plot_model(sequential(), to_file=tmp_path / "model.dot")
    assert (tmp_path / "model.dot").read_text().startswith('digraph "mlp"')
    with pytest.raises(ValueError, match="format='eps'"):
        utils.plot_model(sequential(), to_file=tmp_path / "model.eps")


@pytest.fixture
def connected(api_url: str, new_api_key: Callable[[], str]) -> Iterator[cornu.Client]:
    client = cornu.connect(api_url, new_api_key())
    yield client
    client.close()


def test_plot_model_with_shapes_from_the_service(
    connected: cornu.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dot = utils.model_to_dot(sequential(), show_shapes=True, show_trainable=True).to_string()
    assert "Input shape: <b>(None, 784)</b>" in dot and "Output shape: <b>(None, 32)</b>" in dot
    assert "Output shape: <b>(None, 10)</b>" in dot and ">Trainable<" in dot
    assert dot.count(">Trainable<") == 2  # Dropout has no weights: no cell, as Keras
    towers = utils.model_to_dot(two_towers(), show_shapes=True, show_dtype=True).to_string()
    assert "Input shape: <b>[(None, 8), (None, 8)]</b>" in towers  # concat's two inputs
    assert "Input shape: <b>?</b>" in towers  # the shared layer, called twice, as Keras
    assert "Output dtype: <b>float32</b>" in towers
    monkeypatch.setenv("PATH", str(tmp_path))
    out = tmp_path / "shapes.png"
    utils.plot_model(two_towers(), to_file=out, show_shapes=True, show_layer_names=True)
    with Image.open(out) as image:
        assert image.width > 1000 and image.height > image.width / 2
    unbuilt = models.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has not yet been built"):
        utils.plot_model(unbuilt, to_file=tmp_path / "x.png", show_shapes=True)


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="Graphviz's dot is not installed")
def test_plot_model_with_graphviz(tmp_path: Path) -> None:
    towers, stack = tmp_path / "towers.png", tmp_path / "stack.png"
    utils.plot_model(two_towers(), to_file=towers, show_layer_names=True)
    utils.plot_model(sequential(), to_file=stack, show_layer_names=True)
    with Image.open(towers) as wide, Image.open(stack) as tall:
        assert wide.format == tall.format == "PNG"
        assert tall.height > tall.width  # four boxes one above the other
        assert wide.width > tall.width  # the two inputs side by side
