"""Drawing a model graph without Graphviz: Keras's boxes (a black title row, then the
activation and the shape / dtype / trainable cells), laid out rank by rank in the
direction of `rankdir`, with arrows — as a Pillow image or as SVG text.

Sizes follow Graphviz's units: points (1/72 inch) scaled by `dpi / 72`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw, ImageFont

from cornu.utils.model_graph import Box, Graph
from cornu.utils.plot_layout import layout

Segments = list[tuple[str, bool]]  # (text, bold)

_FONT_DIRS = ("/usr/share/fonts/truetype", "/usr/share/fonts", "/Library/Fonts", "C:/Windows/Fonts")
_FONT_FILES = {
    False: ("dejavu/DejaVuSans.ttf", "DejaVuSans.ttf", "liberation/LiberationSans-Regular.ttf",
            "Arial.ttf", "arial.ttf"),
    True: ("dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf",
           "liberation/LiberationSans-Bold.ttf", "Arial Bold.ttf", "arialbd.ttf"),
}  # fmt: skip


@cache
def font(size: int, bold: bool) -> Any:
    """A sans-serif font of `size` pixels: DejaVu or Liberation Sans when installed,
    else Pillow's own."""
    for folder in _FONT_DIRS:
        for name in _FONT_FILES[bold]:
            path = os.path.join(folder, name)
            if os.path.exists(path):
                return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def text_width(segments: Segments, size: int) -> float:
    return sum(font(size, bold).getlength(text) for text, bold in segments)


@dataclass
class Cell:
    segments: Segments
    size: int
    fill: str = "white"
    color: str = "black"


@dataclass
class Drawing:
    width: int
    height: int
    rects: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    texts: list[tuple[float, float, Cell]] = field(default_factory=list)  # centred
    lines: list[list[tuple[float, float]]] = field(default_factory=list)
    heads: list[list[tuple[float, float]]] = field(default_factory=list)
    line_width: float = 2.0


def label_rows(box: Box, options: dict[str, bool], scale: float) -> list[list[Cell]]:
    """Keras's `make_layer_label` as rows of cells."""
    big, small = round(16 * scale), round(14 * scale)
    title: Segments = [(box.name, True), (f" ({box.type})", False)]
    if not options["show_layer_names"]:
        title = [(box.type, True)]
    rows = [[Cell(title, big, fill="black", color="white")]]
    if options["show_layer_activations"] and box.activation is not None:
        rows.append([Cell([("Activation: ", False), (box.activation, True)], small)])
    cells = []
    if options["show_shapes"]:
        if box.type != "InputLayer":
            cells.append(Cell([("Input shape: ", False), (box.input_shape or "?", True)], small))
        cells.append(Cell([("Output shape: ", False), (box.output_shape, True)], small))
    if options["show_dtype"]:
        cells.append(Cell([("Output dtype: ", False), (box.dtype or "?", True)], small))
    if options["show_trainable"] and box.trainable is not None:
        word, fill = (
            ("Trainable", "forestgreen") if box.trainable else ("Non-trainable", "firebrick")
        )
        cells.append(Cell([(word, True)], small, fill=fill, color="white"))
    if cells:
        rows.append(cells)
    return rows


def _box_size(rows: list[list[Cell]], pad: float) -> tuple[list[list[float]], list[float]]:
    """Each cell's natural width and each row's height."""
    widths = [[text_width(c.segments, c.size) + 2 * pad for c in row] for row in rows]
    heights = [max(c.size for c in row) * 1.25 + 2 * pad for row in rows]
    return widths, heights


def draw(graph: Graph, options: dict[str, Any]) -> Drawing:
    """Lay out and draw `graph`; `options` are plot_model's (`dpi`, `rankdir`, `show_*`)."""
    scale = float(options["dpi"]) / 72.0
    pad = 10 * scale
    tables = {box.key: label_rows(box, options, scale) for box in graph.boxes}
    sizes: dict[str, tuple[float, float]] = {}
    for key, rows in tables.items():
        widths, heights = _box_size(rows, pad)
        sizes[key] = (max(sum(w) for w in widths), sum(heights))
    placed, paths, (width, height) = layout(
        [b.key for b in graph.boxes], graph.edges, sizes, str(options["rankdir"]), scale
    )
    drawing = Drawing(round(width), round(height), line_width=max(1.0, 2 * scale))
    for key, rows in tables.items():
        left, top = placed[key]
        total_width = sizes[key][0]
        widths, heights = _box_size(rows, pad)
        y = top
        for row, natural, row_height in zip(rows, widths, heights, strict=True):
            extra = (total_width - sum(natural)) / len(row)
            x = left
            for cell, cell_width in zip(row, natural, strict=True):
                w = cell_width + extra
                drawing.rects.append((x, y, w, row_height, cell.fill))
                drawing.texts.append((x + w / 2, y + row_height / 2, cell))
                x += w
            y += row_height
    for path in paths:
        head = _arrow_head(path[-2], path[-1], 10 * scale)
        base = ((head[1][0] + head[2][0]) / 2, (head[1][1] + head[2][1]) / 2)
        drawing.lines.append([*path[:-1], base])  # the line stops where the head starts
        drawing.heads.append(head)
    return drawing


def _arrow_head(
    start: tuple[float, float], end: tuple[float, float], length: float
) -> list[tuple[float, float]]:
    dx, dy = end[0] - start[0], end[1] - start[1]
    norm = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ux, uy = dx / norm, dy / norm
    base = (end[0] - ux * length, end[1] - uy * length)
    half = length * 0.45
    return [
        end,
        (base[0] - uy * half, base[1] + ux * half),
        (base[0] + uy * half, base[1] - ux * half),
    ]


def to_image(drawing: Drawing) -> Image.Image:
    """The drawing as an RGB Pillow image."""
    image = Image.new("RGB", (drawing.width, drawing.height), "white")
    pen = ImageDraw.Draw(image)
    border = max(1, round(drawing.line_width / 2))
    for x, y, w, h, fill in drawing.rects:
        pen.rectangle([x, y, x + w, y + h], fill=fill, outline="black", width=border)
    for cx, cy, cell in drawing.texts:
        x = cx - text_width(cell.segments, cell.size) / 2
        for text, bold in cell.segments:
            face = font(cell.size, bold)
            pen.text((x, cy), text, fill=cell.color, font=face, anchor="lm")
            x += face.getlength(text)
    for line in drawing.lines:
        pen.line(line, fill="black", width=round(drawing.line_width), joint="curve")
    for head in drawing.heads:
        pen.polygon(head, fill="black")
    return image


def to_svg(drawing: Drawing) -> str:
    """The drawing as an SVG document."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{drawing.width}" '
        f'height="{drawing.height}" viewBox="0 0 {drawing.width} {drawing.height}">',
        f'<rect width="{drawing.width}" height="{drawing.height}" fill="white"/>',
    ]
    border = max(1.0, drawing.line_width / 2)
    for x, y, w, h, fill in drawing.rects:
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
            f'stroke="black" stroke-width="{border:.1f}"/>'
        )
    for cx, cy, cell in drawing.texts:
        spans = "".join(
            f'<tspan font-weight="{"bold" if bold else "normal"}">{escape(text)}</tspan>'
            for text, bold in cell.segments
        )
        parts.append(
            f'<text x="{cx:.1f}" y="{cy:.1f}" text-anchor="middle" dominant-baseline="central" '
            f'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="{cell.size}" '
            f'fill="{cell.color}" xml:space="preserve">{spans}</text>'
        )
    for line in drawing.lines:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in line)
        parts.append(
            f'<polyline points="{points}" fill="none" stroke="black" '
            f'stroke-width="{drawing.line_width:.1f}"/>'
        )
    for head in drawing.heads:
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in head)
        parts.append(f'<polygon points="{points}" fill="black"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


__all__ = ["Drawing", "draw", "label_rows", "to_image", "to_svg"]
