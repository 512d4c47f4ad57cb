"""`keras.utils.plot_model` and `keras.utils.model_to_dot`.

The graph comes from the model's spec, and its shapes (when asked for) from the
service's summary. The DOT text is Keras's (`model_to_dot`'s HTML-like labels), written
here without pydot; Graphviz's `dot` renders it when installed (Debian's `graphviz`),
and otherwise Cornu draws the same boxes itself: PNG, JPEG and the other Pillow formats,
SVG as text, or the DOT text for `.dot` / `.gv`.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
from typing import Any
from xml.sax.saxutils import escape

from cornu.utils import plot_render
from cornu.utils.model_graph import NOT_BUILT, Box, Graph, model_graph, parse

RANKDIRS = ("TB", "LR", "BT", "RL")
PILLOW_FORMATS = ("png", "jpg", "jpeg", "gif", "bmp", "tiff", "webp", "pdf")
"""What Cornu draws without Graphviz, besides "svg", "dot" and "gv"."""


class DotGraph:
    """A model as a Graphviz graph (what Keras's `model_to_dot` returns as a `pydot.Dot`):
    `to_string()` is its DOT text; `create(format)` and `write(path, format)` render it."""

    def __init__(self, graph: Graph, options: dict[str, Any]) -> None:
        self.graph, self.options = graph, options

    def to_string(self) -> str:
        """The graph as DOT text, with Keras's HTML-like labels."""
        o = self.options
        lines = [f"digraph {_quote(self.graph.name)} {{"]
        if o["subgraph"]:
            lines[0] = f"subgraph {_quote('cluster_' + self.graph.name)} {{"
            lines += [f"label={_quote(self.graph.name)};", 'labeljust="l";', 'style="dashed";']
        else:
            lines += [
                f"rankdir={o['rankdir']};",
                "concentrate=True;",
                f"dpi={o['dpi']};",
                f"splines={o['splines']};",
                "node [shape=record];",
            ]
        for box in self.graph.boxes:
            label = _html_label(box, o)
            lines.append(
                f"{_quote(box.key)} [label={label}, fontname=Helvetica, border=0, margin=0];"
            )
        lines += [f"{_quote(a)} -> {_quote(b)} [penwidth=2];" for a, b in self.graph.edges]
        return "\n".join([*lines, "}"]) + "\n"

    __str__ = to_string

    def create(self, format: str = "png") -> bytes:
        """The rendered graph as bytes, by Graphviz's `dot` when installed, else by Cornu.

        Raises:
            ValueError: a format Cornu cannot draw without Graphviz.
        """
        fmt = format.lower()
        if fmt in ("dot", "gv", "raw", "canon"):
            return self.to_string().encode()
        dot = shutil.which("dot")
        if dot is not None:
            done = subprocess.run(
                [dot, f"-T{fmt}"], input=self.to_string().encode(), capture_output=True,
                check=True, timeout=120,
            )  # fmt: skip
            return done.stdout
        return _draw(self.graph, self.options, fmt)

    def write(self, path: str | os.PathLike[str], format: str = "raw") -> None:
        """Write the graph to `path` in `format` (Graphviz's name; "raw" is DOT text)."""
        with open(path, "wb") as f:
            f.write(self.create(format))


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html_label(box: Box, options: dict[str, Any]) -> str:
    """Keras's `make_layer_label` table."""
    cells = []
    if options["show_shapes"]:
        if box.type != "InputLayer":
            cells.append(_cell(f"Input shape: <b>{escape(box.input_shape or '?')}</b>"))
        cells.append(_cell(f"Output shape: <b>{escape(box.output_shape)}</b>"))
    if options["show_dtype"]:
        cells.append(_cell(f"Output dtype: <b>{escape(box.dtype or '?')}</b>"))
    if options["show_trainable"] and box.trainable is not None:
        word, color = (
            ("Trainable", "forestgreen") if box.trainable else ("Non-trainable", "firebrick")
        )
        cells.append(
            f'<td bgcolor="{color}"><font point-size="14" color="white"><b>{word}</b></font></td>'
        )
    colspan = max(1, sum(map(bool, (options["show_dtype"], options["show_trainable"]))))
    colspan += 2 if options["show_shapes"] else 0
    title = f"<b>{escape(box.type)}</b>"
    if options["show_layer_names"]:
        title = f"<b>{escape(box.name)}</b> ({escape(box.type)})"
    table = '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
    table += (
        f'<tr><td colspan="{colspan}" bgcolor="black">'
        f'<font point-size="16" color="white">{title}</font></td></tr>'
    )
    if options["show_layer_activations"] and box.activation is not None:
        table += (
            f'<tr><td bgcolor="white" colspan="{colspan}"><font point-size="14">'
            f"Activation: <b>{escape(box.activation)}</b></font></td></tr>"
        )
    if cells:
        table += f"<tr>{''.join(cells)}</tr>"
    return table + "</table>>"


def _cell(content: str) -> str:
    return f'<td bgcolor="white"><font point-size="14">{content}</font></td>'


def _draw(graph: Graph, options: dict[str, Any], fmt: str) -> bytes:
    import io

    drawing = plot_render.draw(graph, options)
    if fmt == "svg":
        return plot_render.to_svg(drawing).encode()
    if fmt not in PILLOW_FORMATS:
        raise ValueError(
            f"Without Graphviz (`dot`), plot_model draws {', '.join(PILLOW_FORMATS)}, svg, "
            f"dot or gv; received format={fmt!r}. Install Graphviz (Debian: "
            "`apt-get install graphviz`) for other formats."
        )
    buffer = io.BytesIO()
    dpi = float(options["dpi"])
    plot_render.to_image(drawing).save(
        buffer, format="jpeg" if fmt == "jpg" else fmt, dpi=(dpi, dpi)
    )
    return buffer.getvalue()


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> DotGraph:
    """A model as a Graphviz graph, as Keras's `keras.utils.model_to_dot`.

    One box per layer (a Sequential's input is not drawn; a functional model's inputs
    are `InputLayer` boxes; a layer called twice is one box with several arrows), each
    with Keras's label: the name and class, and on request the activation, input and
    output shapes (`(None, 784)`, "?" for a shared layer), output dtype and whether it
    is trainable. Shapes and weights come from the service's summary.

    Args:
        model: an SDK model (`Sequential`, `Model`, or one from JSON).
        rankdir: "TB" (top to bottom), "LR", "BT" or "RL".
        expand_nested: accepted for Keras's signature (Cornu's models do not nest).
        dpi: the rendering's resolution.
        subgraph: give a `cluster` subgraph instead of a whole graph.
        splines: Graphviz's edge style ("ortho", "curved", "polyline", "spline", "line").

    Raises:
        ValueError: an unknown `rankdir`, `layer_range` or another unexpected keyword,
            or shapes asked of a model whose input shape is unknown (not built).
        SpecError: the model's spec is invalid.
        CornuError: the service could not be reached for the summary.
    """
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"`rankdir` must be one of {RANKDIRS}. Received: rankdir={rankdir}")
    summary = None
    if show_shapes or show_trainable:
        spec = parse(model)
        if getattr(spec, "input_shape", ()) is None:
            raise ValueError(NOT_BUILT + " (Cornu: give the first layer an input_shape.)")
        summary = model._summary()
    options = {
        "show_shapes": show_shapes,
        "show_dtype": show_dtype,
        "show_layer_names": show_layer_names,
        "rankdir": rankdir,
        "dpi": dpi,
        "subgraph": subgraph,
        "show_layer_activations": show_layer_activations,
        "show_trainable": show_trainable,
        "splines": splines,
    }
    return DotGraph(model_graph(model, summary), options)


def plot_model(
    model: Any,
    to_file: str | os.PathLike[str] = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    splines: str = "ortho",
    **kwargs: Any,
) -> Any:
    """Draw a model to `to_file`, as Keras's `keras.utils.plot_model` (whose
    `show_layer_names` defaults to False in Keras 3).

    The format comes from the extension (PNG without one). Graphviz renders it when its
    `dot` is installed; otherwise Cornu draws the boxes and arrows itself (PNG, JPEG, GIF,
    BMP, TIFF, WebP, PDF, SVG; `.dot` / `.gv` write the DOT text).

    Returns:
        `IPython.display.Image` of the file when IPython is installed (as Keras), or
        `IPython.display.SVG` for an SVG file; None for a PDF or without IPython.

    Raises:
        ValueError: as `model_to_dot`, or a format Cornu cannot draw without Graphviz.
        SpecError: the model's spec is invalid.
    """
    dot = model_to_dot(
        model,
        show_shapes=show_shapes,
        show_dtype=show_dtype,
        show_layer_names=show_layer_names,
        rankdir=rankdir,
        expand_nested=expand_nested,
        dpi=dpi,
        show_layer_activations=show_layer_activations,
        show_trainable=show_trainable,
        splines=splines,
        **kwargs,
    )
    path = os.fspath(to_file)
    extension = os.path.splitext(path)[1][1:].lower() or "png"
    dot.write(path, format=extension)
    if extension == "pdf":
        return None
    try:
        display = importlib.import_module("IPython.display")
    except ImportError:
        return None
    if extension == "svg":
        return display.SVG(filename=path)
    if extension in ("png", "jpg", "jpeg", "gif", "webp"):
        return display.Image(filename=path)
    return None


__all__ = ["DotGraph", "model_to_dot", "plot_model"]
