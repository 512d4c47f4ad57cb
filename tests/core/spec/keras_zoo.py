"""The model zoo the Keras-format tests share: `ZOO` covers every layer Cornu supports,
Sequential and functional models, several inputs and outputs, shared layers (also at
different depths), layers with several outputs, wrappers and masks; with the helpers
that build, write and compare its models, and Keras 3.15 itself (`keras_or_skip`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cornu.core.engine.build import build_model
from cornu.core.spec import FunctionalSpec, SequentialSpec
from cornu.core.spec.keras_config import (
    from_keras,
    model_spec,
    to_keras,
)

DATA = Path(__file__).parents[2] / "data" / "keras"


Spec = SequentialSpec | FunctionalSpec


def seq(*layers: dict[str, Any], **model: Any) -> dict[str, Any]:
    return {"type": "sequential", "layers": list(layers), **model}


def fun(
    inputs: dict[str, list[int]], *layers: dict[str, Any], outputs: list[str]
) -> dict[str, Any]:
    given = [{"name": n, "shape": s} for n, s in inputs.items()]
    return {"type": "functional", "inputs": given, "layers": list(layers), "outputs": outputs}


def node(name: str, inputs: list[str], kind: str, **args: Any) -> dict[str, Any]:
    if "layer" in args:  # a wrapper: its own `layer` needs the nested node form
        return {"name": name, "inputs": inputs, "layer": {"type": kind, **args}}
    return {"name": name, "inputs": inputs, "type": kind, **args}


def call(name: str, layer: str, inputs: list[str]) -> dict[str, Any]:
    return {"name": name, "call": layer, "inputs": inputs}


def inp(*shape: int) -> dict[str, Any]:
    return {"type": "Input", "shape": list(shape)}


MERGES = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"]


ZOO: dict[str, dict[str, Any]] = {
    "mlp": seq(
        inp(20),
        {
            "type": "Dense",
            "units": 16,
            "activation": "relu",
            "kernel_initializer": "he_normal",
            "kernel_regularizer": {"type": "l2", "l2": 1e-3},
            "bias_constraint": {"type": "max_norm", "max_value": 3.0},
        },
        {"type": "Dropout", "rate": 0.3},
        {
            "type": "Dense",
            "units": 10,
            "activation": "softmax",
            "bias_initializer": {"type": "Constant", "value": 0.1},
        },
        name="mlp",
    ),
    "input_shape_on_first_layer": seq(
        {
            "type": "Dense",
            "units": 8,
            "input_shape": [5],
            "use_bias": False,
            "activity_regularizer": "l1",
        },
        {"type": "Dense", "units": 2, "kernel_constraint": {"type": "unit_norm"}, "name": "head"},
    ),
    "convnet": seq(
        inp(12, 12, 3),
        {
            "type": "Conv2D",
            "filters": 8,
            "kernel_size": 3,
            "padding": "same",
            "activation": "relu",
            "kernel_initializer": {"type": "RandomNormal", "stddev": 0.02},
        },
        {"type": "BatchNormalization", "momentum": 0.9},
        {"type": "MaxPooling2D", "pool_size": 2},
        {
            "type": "Conv2D",
            "filters": 6,
            "kernel_size": [3, 3],
            "dilation_rate": 2,
            "use_bias": False,
        },
        {"type": "AveragePooling2D", "pool_size": 2, "padding": "same"},
        {"type": "Flatten"},
        {"type": "Dense", "units": 3, "activation": "softmax"},
    ),
    "conv1d": seq(
        inp(16, 4),
        {
            "type": "Conv1D",
            "filters": 6,
            "kernel_size": 3,
            "padding": "causal",
            "activation": "relu",
        },
        {"type": "MaxPooling1D", "pool_size": 2},
        {"type": "Conv1D", "filters": 4, "kernel_size": 2, "strides": 2, "groups": 2},
        {"type": "AveragePooling1D", "pool_size": 2, "strides": 1},
        {"type": "GlobalMaxPooling1D"},
        {"type": "Dense", "units": 2},
    ),
    "embedding_lstm": seq(
        inp(10),
        {"type": "Embedding", "input_dim": 50, "output_dim": 8, "mask_zero": True},
        {"type": "LSTM", "units": 6, "return_sequences": True, "dropout": 0.1},
        {"type": "GlobalAveragePooling1D"},
        {"type": "Dense", "units": 1, "activation": "sigmoid"},
    ),
    "gru": seq(
        inp(7, 5),
        {"type": "GRU", "units": 4, "return_sequences": True, "reset_after": False},
        {
            "type": "GRU",
            "units": 3,
            "go_backwards": True,
            "recurrent_initializer": "glorot_uniform",
        },
        {"type": "Dense", "units": 2},
    ),
    "simple_rnn": seq(
        inp(6, 3),
        {"type": "SimpleRNN", "units": 5, "activation": "relu"},
        {"type": "RepeatVector", "n": 3},
        {"type": "SimpleRNN", "units": 2, "return_sequences": True, "use_bias": False},
        {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "activation": "tanh"}},
    ),
    "bidirectional": seq(
        inp(6, 3),
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 4, "return_sequences": True}},
        {"type": "Bidirectional", "layer": {"type": "GRU", "units": 3}, "merge_mode": "sum"},
        {"type": "Dense", "units": 2},
    ),
    "bidirectional_backward_layer": seq(
        inp(5, 2),
        {
            "type": "Bidirectional",
            "layer": {"type": "SimpleRNN", "units": 3, "return_sequences": True, "name": "rnn"},
            "backward_layer": {
                "type": "SimpleRNN",
                "units": 3,
                "return_sequences": True,
                "go_backwards": True,
                "name": "back",
            },
            "merge_mode": "ave",
        },
        {"type": "Flatten"},
        {"type": "Dense", "units": 1},
    ),
    "reshaping": seq(
        inp(4, 4, 2),
        {"type": "ZeroPadding2D", "padding": [[1, 0], [0, 2]]},
        {"type": "Cropping2D", "cropping": [[1, 1], [0, 1]]},
        {"type": "UpSampling2D", "size": [2, 1]},
        {
            "type": "Conv2DTranspose",
            "filters": 3,
            "kernel_size": 3,
            "strides": 2,
            "padding": "same",
        },
        {"type": "SeparableConv2D", "filters": 4, "kernel_size": 3, "depth_multiplier": 2},
        {"type": "Reshape", "target_shape": [-1, 4]},
        {"type": "Permute", "dims": [2, 1]},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ),
    "activations": seq(
        inp(8),
        {"type": "Dense", "units": 8},
        {"type": "ReLU", "max_value": 6.0, "negative_slope": 0.1},
        {"type": "LeakyReLU", "negative_slope": 0.1},
        {"type": "Activation", "activation": "tanh"},
        {"type": "GaussianNoise", "stddev": 0.1},
        {"type": "Dense", "units": 4},
        {"type": "Softmax"},
        {"type": "LayerNormalization", "epsilon": 1e-5},
        {"type": "Dense", "units": 3, "activation": "gelu"},
    ),
    "spatial_dropout": seq(
        inp(6, 6, 3),
        {"type": "SpatialDropout2D", "rate": 0.2},
        {"type": "Conv2D", "filters": 2, "kernel_size": 1},
        {"type": "GlobalAveragePooling2D", "keepdims": True},
        {"type": "Flatten"},
        {"type": "Reshape", "target_shape": [2, 1]},
        {"type": "SpatialDropout1D", "rate": 0.2},
        {"type": "GlobalAveragePooling1D"},
    ),
    "global_max": seq(inp(5, 5, 2), {"type": "GlobalMaxPooling2D"}, {"type": "Dense", "units": 2}),
    "time_distributed_conv": seq(
        inp(3, 8, 8, 1),
        {"type": "TimeDistributed", "layer": {"type": "Conv2D", "filters": 2, "kernel_size": 3}},
        {"type": "TimeDistributed", "layer": {"type": "Flatten"}},
        {"type": "LSTM", "units": 4},
    ),
    "frozen": seq(
        inp(6),
        {"type": "Dense", "units": 6, "trainable": False},
        {"type": "BatchNormalization", "trainable": False, "center": False},
        {"type": "Dense", "units": 2},
    ),
    "layer_normalization_axes": seq(
        inp(3, 4),
        {"type": "LayerNormalization", "axis": [1, 2]},
        {"type": "LayerNormalization", "rms_scaling": True},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ),
    "two_inputs_two_outputs": fun(
        {"a": [8], "b": [5]},
        node("da", ["a"], "Dense", units=6, activation="relu"),
        node("db", ["b"], "Dense", units=6, activation="tanh"),
        node("cat", ["da", "db"], "Concatenate"),
        node("cls", ["cat"], "Dense", units=3, activation="softmax"),
        node("reg", ["cat"], "Dense", units=1),
        outputs=["cls", "reg"],
    ),
    "merging": fun(
        {"x": [6], "y": [6]},
        node("tower", ["x"], "Dense", units=4, activation="relu"),
        call("tower_b", "tower", ["y"]),
        *[node(m.lower(), ["tower", "tower_b"], m) for m in MERGES],
        node("dot", ["tower", "tower_b"], "Dot", axes=1, normalize=True),
        node("cat", [m.lower() for m in MERGES] + ["dot"], "Concatenate", axis=-1),
        node("out", ["cat"], "Dense", units=1),
        outputs=["out"],
    ),
    "return_state": fun(
        {"seq": [5, 3]},
        node("lstm", ["seq"], "LSTM", units=4, return_state=True),
        node("from_h", ["lstm:1"], "Dense", units=2),
        outputs=["lstm", "from_h", "lstm:2"],
    ),
    "attention": fun(
        {"q": [5, 8], "v": [7, 8]},
        node("cross", ["q", "v"], "MultiHeadAttention", num_heads=2, key_dim=4),
        node(
            "causal",
            ["q", "q", "q"],
            "MultiHeadAttention",
            num_heads=2,
            key_dim=3,
            value_dim=5,
            output_shape=[6],
            use_causal_mask=True,
        ),
        node("norm", ["cross"], "LayerNormalization"),
        node("pool", ["norm"], "GlobalAveragePooling1D"),
        node("out", ["pool"], "Dense", units=2),
        outputs=["out", "causal"],
    ),
    "masked_functional": fun(
        {"ids": [6]},
        node("emb", ["ids"], "Embedding", input_dim=30, output_dim=4, mask_zero=True),
        node(
            "bi",
            ["emb"],
            "Bidirectional",
            layer={"type": "LSTM", "units": 3, "return_sequences": True},
        ),
        node("last", ["bi"], "LSTM", units=2),
        node("mean", ["bi"], "GlobalAveragePooling1D"),
        node("out", ["last"], "Dense", units=1),
        outputs=["out", "mean"],
    ),
    "bidirectional_states": fun(
        {"seq": [4, 3]},
        node(
            "bi",
            ["seq"],
            "Bidirectional",
            layer={"type": "GRU", "units": 2, "return_state": True},
            merge_mode=None,
        ),
        outputs=["bi", "bi:1", "bi:2", "bi:3"],
    ),
    "shared_at_two_depths": fun(  # A(B(A(B(x)))): one layer at two depths of the graph
        {"x": [4]},
        node("a", ["x"], "Dense", units=4),
        node("b", ["a"], "Dense", units=4, activation="tanh"),
        call("a_again", "a", ["b"]),
        call("b_again", "b", ["a_again"]),
        outputs=["b_again"],
    ),
    "diamond": fun(
        {"x": [4], "z": [3]},
        node("left", ["x"], "Dense", units=4),
        node("right", ["x"], "Dense", units=4),
        node("deep", ["left"], "Dense", units=4),
        node("deeper", ["deep"], "Dense", units=4),
        node("sum", ["deeper", "right"], "Add"),
        node("zz", ["z"], "Dense", units=4),
        node("cat", ["zz", "sum"], "Concatenate"),
        node("out", ["cat"], "Dense", units=1),
        outputs=["out", "right"],
    ),
}


NEW = {
    "volumes": seq(
        inp(4, 6, 6, 2),
        {"type": "Conv3D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"type": "MaxPooling3D", "pool_size": 2},
        {"type": "Conv3DTranspose", "filters": 2, "kernel_size": 2, "strides": 2},
        {"type": "ZeroPadding3D", "padding": [1, 0, [0, 1]]},
        {"type": "Cropping3D", "cropping": [[1, 0], 1, [0, 1]]},
        {"type": "UpSampling3D", "size": [1, 2, 1]},
        {"type": "AveragePooling3D", "pool_size": 2, "padding": "same"},
        {"type": "AdaptiveMaxPooling3D", "output_size": 2},
        {"type": "AdaptiveAveragePooling3D", "output_size": [1, 2, 2]},
        {"type": "GlobalMaxPooling3D", "keepdims": True},
        {"type": "GlobalAveragePooling3D"},
        {"type": "Dense", "units": 3, "activation": "softmax"},
    ),
    "depthwise_separable_1d": seq(
        inp(12, 3),
        {"type": "DepthwiseConv1D", "kernel_size": 3, "depth_multiplier": 2},
        {"type": "SeparableConv1D", "filters": 4, "kernel_size": 3, "padding": "same"},
        {
            "type": "Conv1DTranspose",
            "filters": 4,
            "kernel_size": 3,
            "strides": 2,
            "output_padding": 1,
        },
        {"type": "UpSampling1D", "size": 2},
        {"type": "ZeroPadding1D", "padding": [1, 2]},
        {"type": "Cropping1D", "cropping": [2, 1]},
        {"type": "AdaptiveAveragePooling1D", "output_size": 5},
        {"type": "AdaptiveMaxPooling1D", "output_size": 3},
        {"type": "GlobalAveragePooling1D"},
        {"type": "Dense", "units": 2},
    ),
    "depthwise_adaptive_2d": seq(
        inp(8, 8, 2),
        {
            "type": "DepthwiseConv2D",
            "kernel_size": 3,
            "strides": 2,
            "padding": "same",
            "depth_multiplier": 2,
        },
        {"type": "AdaptiveAveragePooling2D", "output_size": [3, 2]},
        {"type": "AdaptiveMaxPooling2D", "output_size": 2},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ),
    "conv_lstm_1d_2d": seq(
        inp(3, 6, 6, 1),
        {"type": "ConvLSTM2D", "filters": 2, "kernel_size": 3, "return_sequences": True},
        {"type": "Reshape", "target_shape": [3, 16, 2]},
        {"type": "ConvLSTM1D", "filters": 2, "kernel_size": 2, "padding": "same", "dropout": 0.1},
        {"type": "Flatten"},
        {"type": "Dense", "units": 1},
    ),
    "conv_lstm_3d": seq(
        inp(2, 3, 3, 3, 1),
        {"type": "ConvLSTM3D", "filters": 2, "kernel_size": 2, "recurrent_dropout": 0.1},
        {"type": "Flatten"},
        {"type": "Dense", "units": 1},
    ),
}
NEW["conv_lstm_functional"] = fun(
    {"frames": [3, 5, 5, 2]},
    node("clstm", ["frames"], "ConvLSTM2D", filters=2, kernel_size=3, padding="same"),
    node("pool", ["clstm"], "GlobalAveragePooling2D"),
    node("out", ["pool"], "Dense", units=1),
    outputs=["out"],
)
NEW["masking_and_cells"] = seq(
    inp(6, 3),
    {"type": "Masking", "mask_value": 0.0},
    {"type": "RNN", "cell": {"type": "LSTMCell", "units": 4}, "return_sequences": True},
    {"type": "RNN", "cell": {"type": "GRUCell", "units": 3}, "return_sequences": True},
    {
        "type": "RNN",
        "cell": [{"type": "SimpleRNNCell", "units": 3}, {"type": "GRUCell", "units": 2}],
    },
    {"type": "Dense", "units": 1},
)
NEW["activations_noise_normalization"] = seq(
    inp(5, 4),
    {"type": "Identity"},
    {"type": "ELU", "alpha": 0.5},
    {"type": "PReLU", "shared_axes": [1]},
    {"type": "ActivityRegularization", "l1": 0.01},
    {"type": "AlphaDropout", "rate": 0.1},
    {"type": "GaussianDropout", "rate": 0.1},
    {"type": "UnitNormalization"},
    {"type": "GroupNormalization", "groups": 2},
    {"type": "RMSNormalization"},
    {"type": "Dense", "units": 2},
)
NEW["spatial_dropout_3d"] = seq(
    inp(2, 3, 3, 2), {"type": "SpatialDropout3D", "rate": 0.2}, {"type": "Flatten"},
    {"type": "Dense", "units": 1},
)  # fmt: skip
# A tied-embedding language model: one ReversibleEmbedding called forwards on the ids
# and in reverse (`emb(h, reverse=True)`) on the hidden states, shared weights.
NEW["tied_language_model"] = fun(
    {"ids": [6]},
    node("emb", ["ids"], "ReversibleEmbedding", input_dim=12, output_dim=4),
    node(
        "sn",
        ["emb"],
        "SpectralNormalization",
        layer={"type": "Dense", "units": 4, "name": "sn_dense"},
        power_iterations=2,
    ),
    {"name": "logits", "call": "emb", "inputs": ["sn"], "reverse": True},
    outputs=["logits"],
)
NEW["untied_reverse_first"] = fun(  # a layer whose first call is the reverse one
    {"hidden": [5, 3]},
    node(
        "emb",
        ["hidden"],
        "ReversibleEmbedding",
        input_dim=7,
        output_dim=3,
        tie_weights=False,
        logit_soft_cap=2.0,
        reverse=True,
    ),
    node("head", ["emb"], "Dense", units=2),
    outputs=["head"],
)
NEW["spectral_conv"] = seq(
    inp(6, 6, 2),
    {"type": "SpectralNormalization", "layer": {"type": "Conv2D", "filters": 3, "kernel_size": 3}},
    {"type": "Flatten"},
    {
        "type": "SpectralNormalization",
        "layer": {"type": "Dense", "units": 2},
        "power_iterations": 3,
    },
)
NEW["attention_layers"] = fun(
    {"q": [4, 6], "v": [5, 6]},
    node("dot", ["q", "v"], "Attention", use_scale=True, score_mode="concat"),
    node("add", ["dot", "v"], "AdditiveAttention"),
    node(
        "gqa",
        ["add", "v"],
        "GroupQueryAttention",
        head_dim=2,
        num_query_heads=2,
        num_key_value_heads=1,
    ),  # fmt: skip
    node(
        "einsum", ["gqa"], "EinsumDense", equation="abc,cd->abd", output_shape=[4, 3], bias_axes="d"
    ),  # fmt: skip
    outputs=["einsum"],
)
ZOO.update(NEW)

# Preprocessing and augmentation (active only in training: Keras and Cornu agree at
# inference). RandomCrop is not here: at inference Keras returns the image uncropped,
# against its own output shape, where Cornu crops the centred window.
PIPELINE = {
    "type": "sequential",
    "name": "augmented",
    "layers": [
        {"type": "Input", "shape": [10, 12, 3]},
        {"type": "Rescaling", "scale": 0.00392156862745098, "offset": -0.5},
        {"type": "Resizing", "height": 8, "width": 8, "crop_to_aspect_ratio": True},
        {"type": "RandomFlip", "mode": "horizontal", "seed": 3},
        {"type": "RandomRotation", "factor": 0.1, "fill_mode": "constant"},
        {"type": "RandomZoom", "height_factor": 0.2, "width_factor": [-0.1, 0.1]},
        {"type": "RandomTranslation", "height_factor": 0.1, "width_factor": 0.1},
        {"type": "RandomContrast", "factor": 0.3, "value_range": [-0.5, 0.5]},
        {"type": "RandomBrightness", "factor": 0.1, "value_range": [-0.5, 0.5]},
        {"type": "CenterCrop", "height": 4, "width": 4},
        {"type": "Normalization", "axis": -1},
        {"type": "Normalization", "mean": [0.1, 0.2, 0.3], "variance": [2, 1, 0.5], "invert": True},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2},
    ],
}
COLOURS = {
    "type": "sequential",
    "layers": [
        {"type": "Input", "shape": [6, 7, 3]},
        {"type": "AutoContrast"},
        {"type": "RandomGrayscale", "factor": 0.2},
        {"type": "Solarization", "addition_factor": 0.1, "threshold_factor": [0.5, 0.9]},
        {"type": "RandomInvert", "factor": 0.5},
        {"type": "RandomPosterization", "factor": [3, 6]},
        {"type": "RandomSharpness", "factor": 0.4},
        {"type": "RandomHue", "factor": 0.2},
        {"type": "RandomSaturation", "factor": 0.3},
        {"type": "RandomColorDegeneration", "factor": 0.5},
        # (pairs: Keras writes a number as (-f, f), which it cannot load back)
        {
            "type": "RandomShear",
            "x_factor": [0.0, 0.2],
            "y_factor": [0.1, 0.2],
            "fill_mode": "wrap",
        },
        {"type": "RandomGaussianBlur", "factor": 0.5, "kernel_size": 5, "sigma": [0.2, 0.8]},
        {"type": "RandomColorJitter", "brightness_factor": 0.1, "hue_factor": [0.1, 0.2]},
        {"type": "RandomErasing", "factor": 0.5, "fill_value": 3.0},
        {"type": "RandomPerspective", "scale": 0.3, "fill_value": 1.0},
        {"type": "GlobalAveragePooling2D"},
        {"type": "Dense", "units": 2},
    ],
}
ENCODER = {
    "type": "sequential",
    "layers": [
        {"type": "Input", "shape": [4], "dtype": "int32"},
        {"type": "CategoryEncoding", "num_tokens": 6, "output_mode": "count"},
        {"type": "Dense", "units": 2},
    ],
}


# Keras 3.15 cannot rebuild a Sequential holding Equalization, not even its own (its
# `compute_output_spec` returns the input tensor: "part of a cycle"); a functional works.
EQUALIZED = {
    "type": "functional",
    "inputs": [{"name": "image", "shape": [6, 7, 3]}],
    "layers": [
        {"name": "equalize", "inputs": ["image"], "type": "Equalization", "bins": 64},
        {"name": "flat", "inputs": ["equalize"], "type": "Flatten"},
        {"name": "head", "inputs": ["flat"], "type": "Dense", "units": 2},
    ],
    "outputs": ["head"],
}
ZOO.update({"images": PIPELINE, "colours": COLOURS, "encoder": ENCODER, "equalized": EQUALIZED})

# Audio: 100 samples, where Keras's MelSpectrogram shape rule and its output agree.
ZOO["audio"] = seq(
    inp(100),
    {"type": "MelSpectrogram", "fft_length": 64, "sequence_stride": 16, "num_mel_bins": 8,
     "sampling_rate": 8000, "window": "hamming", "top_db": 60.0},
    {"type": "Flatten"},
    {"type": "Dense", "units": 2},
)  # fmt: skip
ZOO["stft"] = fun(
    {"signal": [48, 2]},
    node("log", ["signal"], "STFTSpectrogram", frame_length=16, frame_step=8, padding="same"),
    node("pool", ["log"], "GlobalAveragePooling1D"),
    node("out", ["pool"], "Dense", units=2),
    outputs=["out"],
)
ZOO["stft_channels_first"] = seq(
    inp(2, 40),
    {"type": "STFTSpectrogram", "mode": "real", "frame_length": 8, "window": "blackman",
     "data_format": "channels_first", "trainable": False},
    {"type": "STFTSpectrogram", "mode": "imag", "frame_length": 4, "window": [0.5, 1, 1, 0.5],
     "data_format": "channels_first", "expand_dims": True},
    {"type": "Flatten"},
    {"type": "Dense", "units": 1},
)  # fmt: skip
# Batch mixing (training only) and MaxNumBoundingBoxes (the identity on images).
MIXING = seq(
    inp(6, 7, 3),
    {"type": "MixUp", "alpha": 0.4, "seed": 2},
    {"type": "CutMix", "factor": 0.5},
    {"type": "MaxNumBoundingBoxes", "max_number": 5},
    {"type": "GlobalAveragePooling2D"},
    {"type": "Dense", "units": 2},
)
ZOO["mixing"] = MIXING
# Discretization (given and adapted boundaries; Keras builds it without TensorFlow, unlike
# IntegerLookup, Hashing and HashedCrossing: tests/core/engine/layers/test_lookup_hashing.py).
ZOO["discretization"] = seq(
    inp(4),
    {"type": "Discretization", "num_bins": 3, "bin_boundaries": [-0.5, 0.5]},
    {"type": "Discretization", "bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "count"},
    {"type": "Dense", "units": 2},
)
# Composite augmentation (training only) around CLAHE (applied at inference too); a
# Pipeline holding a Dense (its weights under `layers/pipeline/layers/<name>`).
AUGMENTED = seq(
    inp(16, 16, 3),
    {"type": "ContrastLimitedAdaptiveHistogramEqualization", "tile_grid_size": [4, 2],
     "clip_limit": 2.0},
    {"type": "RandAugment", "num_ops": 3, "factor": 0.4, "interpolation": "nearest"},
    {"type": "AugMix", "value_range": [0, 255], "all_ops": False, "chain_depth": 2,
     "alpha": 0.5},
    {"type": "RandomElasticTransform", "factor": [0.2, 0.6], "scale": 0.5,
     "fill_mode": "mirror"},
    {"type": "Pipeline", "name": "preprocess", "layers": [
        {"type": "Rescaling", "scale": 0.00392156862745098, "name": "unit"},
        {"type": "RandomFlip", "mode": "horizontal"},
        {"type": "CenterCrop", "height": 8, "width": 8},
        {"type": "Dense", "units": 4, "name": "mix_channels"},
    ]},
    {"type": "Flatten"},
    {"type": "Dense", "units": 2},
)  # fmt: skip
ZOO["augmented"] = AUGMENTED
# stateful=True recurrent layers need the input's fixed batch size, which Keras writes
# into every shape (`batch_shape [4, 5, 3]`, build configs, tensors).
ZOO["stateful"] = seq(
    {"type": "Input", "shape": [5, 3], "batch_size": 4},
    {"type": "LSTM", "units": 6, "stateful": True, "return_sequences": True},
    {"type": "Bidirectional",
     "layer": {"type": "GRU", "units": 3, "stateful": True, "return_sequences": True}},
    {"type": "TimeDistributed", "layer": {"type": "Dense", "units": 2, "name": "per_step"}},
    {"type": "RNN", "stateful": True,
     "cell": [{"type": "SimpleRNNCell", "units": 3}, {"type": "SimpleRNNCell", "units": 2}]},
    {"type": "Dense", "units": 2},
)  # fmt: skip
ZOO["stateful_functional"] = {
    "type": "functional",
    "inputs": [{"name": "steps", "shape": [5, 3], "batch_size": 4},
               {"name": "extra", "shape": [2], "batch_size": 4}],
    "layers": [
        node("rnn", ["steps"], "SimpleRNN", units=4, stateful=True, return_sequences=True),
        node("lstm", ["rnn"], "LSTM", units=3, stateful=True),
        node("both", ["lstm", "extra"], "Concatenate"),
        node("out", ["both"], "Dense", units=1),
    ],
    "outputs": ["out"],
}  # fmt: skip


ZOO.update(
    {
        f.stem: from_keras(json.loads(f.read_text()))
        for f in sorted(DATA.glob("*.json"))
        if f.stem.startswith(("keras3_", "tfkeras2_"))
    }
)


def spec_of(name: str) -> Spec:
    return model_spec(ZOO[name])


def shapes_of(spec: Spec) -> dict[str, Any]:
    """Each layer's output shape by name, as the engine's summary lists them."""
    return {row.name: row.output_shape for row in build_model(spec, device="meta").summary()}


def keras_json(spec: Spec) -> dict[str, Any]:
    return to_keras(spec, shapes_of(spec))


def keras_or_skip() -> Any:
    """Keras 3.15.1, the reference (a dev dependency: a test fails without it), on torch
    (tests/conftest.py sets KERAS_BACKEND before anything imports it)."""
    import keras

    assert keras.backend.backend() == "torch", "Keras was imported with another backend"
    return keras


def without_masks(value: Any) -> Any:
    """Keras's JSON without the mask computations it writes (ops and `mask` tensors)."""
    if isinstance(value, list):
        return [without_masks(v) for v in value if not _is_op(v)]
    if isinstance(value, dict):
        out = {k: without_masks(v) for k, v in value.items() if k != "shared_object_id"}
        if isinstance(out.get("mask"), dict):
            out["mask"] = None
        return out
    return value


def without_pipeline_builds(value: Any) -> Any:
    """Keras's JSON without the `build_config`s of a Pipeline's inner layers: Cornu writes
    none (the shapes between them are the engine's), and Keras writes for each the batch
    size of its symbolic call (`[83, …]`), not None."""
    if isinstance(value, list):
        return [without_pipeline_builds(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: without_pipeline_builds(v) for k, v in value.items()}
    if out.get("class_name") == "Pipeline":
        inner = out["config"]["layers"]
        out["config"]["layers"] = [
            {k: v for k, v in i.items() if k != "build_config"} for i in inner
        ]
    return out


def _is_op(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("module", "")).startswith("keras.src.ops")


def same_json(a: Any, b: Any) -> bool:
    """Equal, but for floats that Keras keeps as float32 (an `L1` factor of 0.01 is written
    back as 0.009999999776482582)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-7)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
