"""A trained job's model as a file other tools load: Keras 3's `.keras`, a legacy Keras
`.h5`, safetensors, TorchScript or ONNX.

`.keras` and `.h5` are what Keras 3.15's `model.save` writes (architecture, weights and
compile arguments; `keras.models.load_model` reads them and predicts what the service
predicts), written without Keras (`core.spec.keras_files`).

TorchScript and ONNX record the model as `model.predict` runs it: inputs batch-first and
channels-last in `input_names` order (float32, int64 for an Embedding's ids), outputs
after the heads' activations (one tensor, or a tuple in `output_names` order), and a
batch of any size. Exports are built on a worker's CPU (`core.calls`), once per job and
format: the file is kept in the blob store, and every download streams it from there.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from cornu.core.engine.layers.rnn import Recurrent
from cornu.core.engine.model import Model
from cornu.core.engine.summary import summarize
from cornu.core.errors import CornuError, SpecError
from cornu.core.inference import Trained, trained
from cornu.core.spec import ExportFormat, SequentialSpec, keras_files
from cornu.core.spec.layers.core import Input
from cornu.core.store import Store

ONNX_OPSET = 20  # torch 2.13's default: LayerNormalization (17+) and GRU/LSTM as ONNX ops
TRACE_BATCH = 2  # a batch of 1 could let a trace treat the batch axis as a constant
# torch.export (under the ONNX exporter) and the tracer keep global state: one at a time.
_EXPORTING = threading.Lock()

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Exported:
    """A file to download: its bytes (in chunks), media type and file name extension."""

    chunks: Iterable[bytes]
    media_type: str
    extension: str


def stored_export(store: Store, tenant: str, job_id: str, fmt: ExportFormat) -> Exported | None:
    """A succeeded job's model in `fmt` if it needs no building (its weights, or a file
    built for an earlier download), else None; NotFound before the job succeeds."""
    if fmt is ExportFormat.safetensors:
        return Exported(
            store.jobs.weights(tenant, job_id), "application/octet-stream", "safetensors"
        )
    media_type, extension = _FILES[fmt]
    kept = store.jobs.export(tenant, job_id, f"model.{extension}")
    return Exported(kept, media_type, extension) if kept is not None else None


def export_job(store: Store, tenant: str, job_id: str, fmt: ExportFormat) -> Exported:
    """A succeeded job's model in `fmt`, built (and kept for the next download) if it
    was not; NotFound before the job succeeds, SpecError (naming the layer and the
    reason) for a model the format cannot express."""
    stored = stored_export(store, tenant, job_id, fmt)
    if stored is not None:
        return stored
    media_type, extension = _FILES[fmt]
    name = f"model.{extension}"
    if fmt in (ExportFormat.keras, ExportFormat.h5):
        data = to_keras_file(trained(store, tenant, job_id), fmt)
    elif fmt is ExportFormat.onnx:
        data = to_onnx(trained(store, tenant, job_id).model)
    else:
        data = to_torchscript(trained(store, tenant, job_id).model)
    store.jobs.keep_export(tenant, job_id, name, data)
    return Exported([data], media_type, extension)


# What each built format is downloaded as: media type and file name extension.
_FILES = {
    ExportFormat.keras: ("application/zip", "keras"),
    ExportFormat.h5: ("application/x-hdf5", "h5"),
    ExportFormat.onnx: ("application/onnx", "onnx"),
    ExportFormat.torchscript: ("application/octet-stream", "pt"),
}


def to_keras_file(job: Trained, fmt: ExportFormat) -> bytes:
    """The trained model as Keras 3.15's `model.save("m.keras")` (or `"m.h5"`) writes it,
    with the job's compile arguments. A Sequential that took its input shape from the
    training data gets it as an `Input`, as Keras records it."""
    spec = job.spec.model
    if isinstance(spec, SequentialSpec) and spec.input_shape is None:
        first = Input(shape=tuple(job.plan.input_shapes[0]))
        spec = spec.model_copy(update={"layers": [first, *spec.layers]})
    summary = summarize(spec)
    weights = {name: t.detach().cpu().numpy() for name, t in job.model.keras_weights().items()}
    buffer = io.BytesIO()
    keras_files.save_model(
        buffer,
        spec,
        weights,
        compile=job.spec.compile,
        shapes={row.name: row.output_shape for row in summary.layers},
        format=fmt.value,
    )
    return buffer.getvalue()


@contextlib.contextmanager
def _recording(what: str) -> Iterator[None]:
    """One export at a time; an exporter's own failure becomes a problem that says which
    exporter failed and what still works, not a bare 500."""
    with _EXPORTING, torch.no_grad():
        try:
            yield
        except CornuError:
            raise
        except Exception as exc:
            log.exception("%s export failed", what)
            first_line = (str(exc).strip().splitlines() or [""])[0][:300]
            raise CornuError(
                f"the {what} exporter could not record this model ({type(exc).__name__}: "
                f"{first_line}); the other formats may still work, and safetensors always does"
            ) from None


def to_torchscript(model: Model) -> bytes:
    """A `torch.jit.load`-able module: `module(*inputs)` gives what `predict` gives."""
    predict = _for_export(model, "TorchScript")
    with _recording("TorchScript"):
        traced = torch.jit.trace(predict, examples(model, TRACE_BATCH), check_trace=False)
        buffer = io.BytesIO()
        torch.jit.save(traced, buffer)
    return buffer.getvalue()


def to_onnx(model: Model) -> bytes:
    """An ONNX model (opset `ONNX_OPSET`) with a dynamic batch axis; its inputs and outputs
    are named as the model's. Uses torch's exporter on `torch.export`, which needs the
    onnxscript package."""
    if importlib.util.find_spec("onnxscript") is None:
        raise CornuError(
            "ONNX export is not available on this server: it needs the onnxscript package "
            "(pip install 'cornu[server]'); TorchScript and safetensors exports still work"
        )
    predict = _for_export(model, "ONNX")
    example = examples(model, TRACE_BATCH)
    batch = torch.export.Dim("batch")
    with _recording("ONNX"):
        program = torch.onnx.export(
            predict,
            example,
            dynamo=True,
            input_names=model.input_names,
            output_names=model.output_names,
            # forward(*inputs): one entry for the varargs, holding each input's axes
            dynamic_shapes=(tuple({0: batch} for _ in example),),
            opset_version=ONNX_OPSET,
            verbose=False,
        )
        assert program is not None  # the dynamo exporter always returns its program
        data: bytes = program.model_proto.SerializeToString()
    return data


def examples(model: Model, batch: int) -> tuple[Tensor, ...]:
    """Inputs of the model's dtypes and shapes: seeded normal floats, and id 0 (which
    every Embedding has) for integer inputs."""
    generator = torch.Generator().manual_seed(0)
    return tuple(
        torch.zeros((batch, *shape), dtype=dtype)
        if not dtype.is_floating_point
        else torch.randn((batch, *shape), generator=generator, dtype=dtype)
        for shape, dtype in zip(model.input_shapes, model.input_dtypes, strict=True)
    )


class _Predict(nn.Module):
    """The model as `predict` runs it, returning one tensor, or a tuple for several
    outputs (what tracing records; the engine's list of outputs is not traceable)."""

    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model

    def forward(self, *inputs: Tensor) -> Tensor | tuple[Tensor, ...]:
        outputs = self.model(*inputs)
        return outputs[0] if len(outputs) == 1 else tuple(outputs)


def _for_export(model: Model, what: str) -> _Predict:
    """The model, frozen in eval mode, once it is known that `what` can record it."""
    model.eval().requires_grad_(False)
    masked = _masked_recurrent(model)
    if masked:
        raise SpecError(
            f"layer {masked[0]} reads a mask (from an Embedding with mask_zero=True), which "
            f"{what} export does not support: a masked recurrent layer packs each batch by "
            "its sequence lengths, which a recorded graph cannot repeat for other inputs; "
            "export a model trained without mask_zero, or download its weights "
            "(format=safetensors)"
        )
    return _Predict(model).eval()


def _masked_recurrent(model: Model) -> list[str]:
    """The layers (`'lstm' (LSTM)`) whose recurrent part runs with a mask, found by running
    the model once: masks arise and travel at run time, as in Keras."""
    found: list[str] = []

    def watch(label: str) -> Callable[[nn.Module, tuple[Any, ...], dict[str, Any]], None]:
        def hook(_: nn.Module, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
            masked = kwargs.get("mask") is not None or any(a is not None for a in args[1:])
            if masked and label not in found:
                found.append(label)

        return hook

    hooks = [
        module.register_forward_pre_hook(watch(_label(name, layer, module)), with_kwargs=True)
        for name, layer in zip(model.names, model.stack, strict=True)
        for module in layer.modules()
        if isinstance(module, Recurrent)
    ]
    if not hooks:
        return found
    try:
        with torch.no_grad():
            model(*examples(model, TRACE_BATCH))
    finally:
        for hook in hooks:
            hook.remove()
    return found


def _label(name: str, layer: nn.Module, module: nn.Module) -> str:
    """`'lstm' (LSTM)`, or `'bidirectional' (Bidirectional of GRU)` for a wrapped layer."""
    kind = type(layer).__name__
    return (
        f"{name!r} ({kind})" if module is layer else f"{name!r} ({kind} of {type(module).__name__})"
    )
