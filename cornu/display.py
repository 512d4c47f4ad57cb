"""How the SDK and the CLI show what Keras shows: metric values, logs, and the
`model.summary()` table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Column, Table

from cornu.core.spec import ModelSummary


def format_value(value: float) -> str:
    """Keras's formatting of a metric: four decimals, or scientific when tiny."""
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_logs(logs: Mapping[str, Any]) -> str:
    """`accuracy: 0.9500 - loss: 0.1234`, Keras's way."""
    return " - ".join(
        f"{name}: {format_value(value) if isinstance(value, float | int) else value}"
        for name, value in logs.items()
    )


def shape_text(shape: Sequence[int | None] | Sequence[Sequence[int | None]]) -> str:
    """Keras's output shape, batch axis first: `(None, 32)`, or a list for several."""
    if all(s is None or isinstance(s, int) for s in shape):
        return str((None, *shape))
    return f"[{', '.join(shape_text(s) for s in shape if isinstance(s, Sequence))}]"


def memory_size(params: int) -> str:
    """Keras's `readable_memory_size` of float32 weights: `99.41 KB`."""
    units = ("B", "KB", "MB", "GB", "TB")
    size, unit = params * 4.0, 0
    while size >= 1024 and unit < len(units) - 1:
        size, unit = size / 1024, unit + 1
    return f"{size:.2f} {units[unit]}"


def _summary_table(title: str | None) -> Table:
    """Keras's summary columns: layer (type), output shape, parameter count."""
    return Table(
        "Layer (type)",
        "Output Shape",
        Column("Param #", justify="right"),
        title=title,
        title_justify="left",
    )


def print_summary(summary: ModelSummary, console: Console, title: str | None = None) -> None:
    """Keras's `model.summary()`: layers, output shapes, parameter counts and sizes."""
    table = _summary_table(title)
    for layer in summary.layers:
        name = f"{layer.name} ({layer.type})"
        table.add_row(name, shape_text(layer.output_shape), f"{layer.params:,}")
    console.print(table)
    for label, count in (
        ("Total", summary.total_params),
        ("Trainable", summary.trainable_params),
        ("Non-trainable", summary.non_trainable_params),
    ):
        console.print(f" {label} params: {count:,} ({memory_size(count)})")


def print_unbuilt(layers: Sequence[tuple[str, str]], console: Console, title: str) -> None:
    """Keras's summary of a model that does not know its input shape yet: `?` shapes and
    `0 (unbuilt)` parameters, as Keras 3 prints it."""
    table = _summary_table(title)
    for name, kind in layers:
        table.add_row(f"{name} ({kind})", "?", "0 (unbuilt)")
    console.print(table)
    for label in ("Total", "Trainable", "Non-trainable"):
        console.print(f" {label} params: 0 (0.00 B)")
