"""`plan_job` (Keras's `compile`, checked against the datasets' shapes) and its helpers,
called directly with shape maps `{dataset_id: (samples, *sample_shape)}`: the plan's
names, shapes, parameter counts and history keys, each SpecError for data that does not
fit the model (with where it points), Keras's `validation_split` rule, and the checks a
model with stateful layers needs. Expected values come from Keras 3.15's rules, cited
where they are used."""

from __future__ import annotations

from typing import Any

import pytest

from cornu.core.engine.plan import DataIds, check_stateful_batches, plan_job, split_point
from cornu.core.errors import ErrorItem, SpecError
from cornu.core.spec import FunctionalSpec, JobSpec, SequentialSpec

Shapes = dict[str, tuple[int, ...]]

XY: Shapes = {"x": (10, 4), "y": (10, 3)}

# Two inputs concatenated (2 + 3 = 5 features) feeding two heads.
TWO_IN_TWO_OUT: dict[str, Any] = {
    "type": "functional",
    "inputs": [{"name": "a", "shape": [2]}, {"name": "b", "shape": [3]}],
    "layers": [
        {"name": "cat", "type": "Concatenate", "inputs": ["a", "b"]},
        {"name": "out", "type": "Dense", "units": 1, "inputs": ["cat"]},
        {"name": "aux", "type": "Dense", "units": 2, "inputs": ["cat"]},
    ],
    "outputs": ["out", "aux"],
}
TWO_DATA: dict[str, Any] = {"x": {"a": "xa", "b": "xb"}, "y": {"out": "y1", "aux": "y2"}}
TWO_SHAPES: Shapes = {"xa": (10, 2), "xb": (10, 3), "y1": (10, 1), "y2": (10, 2)}


def job(layers: list[dict[str, Any]] | None = None, **sections: Any) -> JobSpec:
    """A Dense(3) regression (no input_shape: the data gives it) on datasets x and y."""
    data: dict[str, Any] = {
        "model": {"layers": layers or [{"type": "Dense", "units": 3}]},
        "compile": {"loss": "mse"},
        "data": {"x": "x", "y": "y"},
    }
    data.update(sections)
    return JobSpec.model_validate(data)


def two_heads(**sections: Any) -> JobSpec:
    return job(**{"model": TWO_IN_TWO_OUT, "data": TWO_DATA, **sections})


def refusals(spec: JobSpec, shapes: Shapes) -> list[ErrorItem]:
    with pytest.raises(SpecError) as info:
        plan_job(spec, shapes)
    return info.value.errors


def refusal(spec: JobSpec, shapes: Shapes) -> ErrorItem:
    (error,) = refusals(spec, shapes)
    return error


def model_of(layers: list[dict[str, Any]]) -> SequentialSpec | FunctionalSpec:
    return JobSpec.model_validate({"model": {"layers": layers}, "fit": {"epochs": 0}}).model


# -- what a plan holds -----------------------------------------------------------------


def test_a_sequential_without_input_shape_takes_the_datas_shape() -> None:
    plan = plan_job(job(), XY)
    assert plan.input_names == ["input_layer"]  # Keras 3's name for a Sequential's input
    assert plan.input_shapes == [(4,)] and plan.output_shapes == [(3,)]
    assert plan.output_names == plan.layer_names == ["dense"]
    # Dense(3) on 4 features: a (4, 3) kernel and 3 biases.
    assert plan.params == plan.trainable_params == 15
    assert plan.keras_shapes == {"dense/kernel": (4, 3), "dense/bias": (3,)}
    assert plan.data == [DataIds(["x"], ["y"], None)] and plan.validation is None

    wider = plan_job(job(), {"x": (10, 6), "y": (10, 3)})  # the same spec on 6 features
    assert wider.input_shapes == [(6,)] and wider.params == 6 * 3 + 3


def test_params_count_batch_normalizations_moving_statistics_as_non_trainable() -> None:
    layers: list[dict[str, Any]] = [
        {"type": "Dense", "units": 3},
        {"type": "BatchNormalization"},
        {"type": "Dense", "units": 2},
    ]
    plan = plan_job(job(layers), {"x": (8, 4), "y": (8, 2)})
    # Keras: Dense(3) on 4 = 15; BatchNormalization on 3 features has gamma, beta
    # (trainable) and moving_mean, moving_variance (not): 12, 6 of them trainable;
    # Dense(2) on 3 = 8.
    assert [(layer.name, layer.params, layer.trainable_params) for layer in plan.layers] == [
        ("dense", 15, 15),
        ("batch_normalization", 12, 6),
        ("dense_1", 8, 8),
    ]
    assert (plan.params, plan.trainable_params) == (35, 29)


def test_a_functional_plan_keeps_the_graphs_order_of_inputs_and_outputs() -> None:
    data = {"x": {"b": "xb", "a": "xa"}, "y": {"aux": "y2", "out": "y1"}}  # maps in any order
    plan = plan_job(two_heads(data=data), TWO_SHAPES)
    assert plan.input_names == ["a", "b"] and plan.input_shapes == [(2,), (3,)]
    assert plan.output_names == ["out", "aux"] and plan.output_shapes == [(1,), (2,)]
    # Keras: out = Dense(1) on 5 features (6), aux = Dense(2) on 5 (12); Concatenate has none.
    assert plan.params == 18
    assert plan.data == [DataIds(["xa", "xb"], ["y1", "y2"], None)]
    assert [head.name for head in plan.heads] == ["out", "aux"]


@pytest.mark.parametrize(
    ("fit", "expected"),
    [
        ({}, ["loss", "mae", "mse"]),  # sorted, as Keras 3's History
        ({"validation_split": 0.2}, ["loss", "mae", "mse", "val_loss", "val_mae", "val_mse"]),
        (
            {"validation_data": {"x": "vx", "y": "vy"}},
            ["loss", "mae", "mse", "val_loss", "val_mae", "val_mse"],
        ),
        # ReduceLROnPlateau logs the learning rate after the others.
        (
            {"callbacks": [{"type": "ReduceLROnPlateau", "monitor": "loss"}]},
            ["loss", "mae", "mse", "learning_rate"],
        ),
    ],
)
def test_history_keys_with_and_without_validation(fit: dict[str, Any], expected: list[str]) -> None:
    spec = job(compile={"loss": "mse", "metrics": ["mse", "mae"]}, fit=fit)
    plan = plan_job(spec, {**XY, "vx": (5, 4), "vy": (5, 3)})
    assert plan.history_keys == expected


def test_history_keys_of_several_outputs_are_keras_3s() -> None:
    # What Keras 3.15's fit gives this model (compile(loss="mse", metrics={"out": ["mae"]}),
    # validation_split=0.5): each output's unweighted loss, metrics named after their output.
    spec = two_heads(
        compile={"loss": "mse", "metrics": {"out": ["mae"]}}, fit={"validation_split": 0.5}
    )
    plan = plan_job(spec, TWO_SHAPES)
    assert plan.history_keys == [
        "aux_loss", "loss", "out_loss", "out_mae",
        "val_aux_loss", "val_loss", "val_out_loss", "val_out_mae",
    ]  # fmt: skip


# -- data that does not fit ------------------------------------------------------------


def test_each_unknown_dataset_id_is_reported_where_it_is_named() -> None:
    spec = job(
        [{"type": "Dense", "units": 3, "input_shape": [4]}],
        data={"x": "q", "y": "r", "sample_weight": "w"},
    )
    upload = "upload it first (POST /v1/datasets)"
    assert refusals(spec, {}) == [
        ErrorItem(("data", "x"), f"no dataset 'q'; {upload}"),
        ErrorItem(("data", "y"), f"no dataset 'r'; {upload}"),
        ErrorItem(("data", "sample_weight"), f"no dataset 'w'; {upload}"),
    ]
    validated = job(fit={"validation_data": {"x": "vx", "y": "vy"}})
    assert refusal(validated, {**XY, "vx": (5, 4)}) == ErrorItem(
        ("fit", "validation_data", "y"), f"no dataset 'vy'; {upload}"
    )


def test_x_and_y_must_hold_as_many_samples() -> None:
    assert refusal(job(), {"x": (10, 4), "y": (9, 3)}) == ErrorItem(
        ("data", "y"),
        "x and y must hold as many samples; they hold x: 10 (dataset x), y: 9 (dataset y)",
    )
    validated = job(fit={"validation_data": {"x": "vx", "y": "vy"}})
    assert refusal(validated, {**XY, "vx": (5, 4), "vy": (4, 3)}) == ErrorItem(
        ("fit", "validation_data", "y"),
        "x and y must hold as many samples; they hold x: 5 (dataset vx), y: 4 (dataset vy)",
    )


def test_x_must_fit_the_models_declared_input() -> None:
    declared = job([{"type": "Dense", "units": 3, "input_shape": [5]}])
    assert refusal(declared, XY) == ErrorItem(
        ("data", "x"), "x holds samples of shape (4,) but the model's input shape is (5,)"
    )
    # Keras 3 drops a trailing axis of 1 the input does not declare
    # (keras/src/models/functional.py, `_adjust_input_rank`); any other extra axis is refused.
    four = job([{"type": "Dense", "units": 3, "input_shape": [4]}])
    assert plan_job(four, {"x": (10, 4, 1), "y": (10, 3)}).input_shapes == [(4,)]
    assert refusal(four, {"x": (10, 4, 2), "y": (10, 3)}).msg == (
        "x holds samples of shape (4, 2) but the model's input shape is (4,)"
    )
    error = refusal(two_heads(), {**TWO_SHAPES, "xb": (10, 4)})
    assert error == ErrorItem(
        ("data", "x"), "x['b'] holds samples of shape (4,) but the model's input 'b' has shape (3,)"
    )


def test_every_epochs_data_and_the_validation_data_are_checked_where_they_sit() -> None:
    per_epoch = job(fit={"epochs": 2}, data=[{"x": "x", "y": "y"}, {"x": "x5", "y": "y"}])
    assert refusal(per_epoch, {**XY, "x5": (10, 5)}) == ErrorItem(
        ("data", 1, "x"), "x holds samples of shape (5,) but the model's input shape is (4,)"
    )
    validated = job(fit={"validation_data": {"x": "vx", "y": "vy"}})
    error = refusal(validated, {**XY, "vx": (5, 5), "vy": (5, 3)})
    assert error.loc == ("fit", "validation_data", "x")


@pytest.mark.parametrize("weights", [(10, 2), (9,), (10, 1, 1)])
def test_sample_weight_must_hold_one_weight_per_sample(weights: tuple[int, ...]) -> None:
    spec = job(data={"x": "x", "y": "y", "sample_weight": "w"})
    assert refusal(spec, {**XY, "w": weights}) == ErrorItem(
        ("data", "sample_weight"),
        f"sample_weight must hold one weight per sample (shape (10,)); it has shape {weights}",
    )


@pytest.mark.parametrize("weights", [(10,), (10, 1)])
def test_sample_weight_as_a_vector_or_a_column(weights: tuple[int, ...]) -> None:
    spec = job(data={"x": "x", "y": "y", "sample_weight": "w"})
    assert plan_job(spec, {**XY, "w": weights}).data[0].sample_weight == "w"


def test_targets_must_have_the_outputs_shape() -> None:
    assert refusal(job(), {"x": (10, 4), "y": (10, 2)}) == ErrorItem(
        ("data", "y"),
        "targets y have shape (2,) per sample but the model outputs (3,); "
        "mean_squared_error needs targets of the output's shape",
    )
    # A loss for an output without targets (y names only one of the two outputs).
    only_out = two_heads(data={"x": TWO_DATA["x"], "y": {"out": "y1"}})
    assert refusal(only_out, TWO_SHAPES) == ErrorItem(
        ("data", "y"), "output 'aux' has a loss but no targets in data.y"
    )


def test_a_model_with_several_inputs_needs_a_dataset_for_each() -> None:
    one_id = two_heads(data={"x": "xa", "y": TWO_DATA["y"]})
    assert refusal(one_id, TWO_SHAPES) == ErrorItem(
        ("data", "x"), "the model has 2 inputs (a, b); give a map from each name to a dataset id"
    )
    one_missing = two_heads(data={"x": {"a": "xa"}, "y": TWO_DATA["y"]})
    assert refusal(one_missing, TWO_SHAPES) == ErrorItem(("data", "x"), "no dataset for input 'b'")
    unknown = refusal(two_heads(data={"x": {"a": "xa", "z": "xb"}, "y": TWO_DATA["y"]}), TWO_SHAPES)
    assert unknown == ErrorItem(
        ("data", "x"),
        "input data names 'z', which is not an input of the model (inputs: a, b)",
    )


def test_an_unknown_dataset_is_named_before_the_model_is_built() -> None:
    """A Sequential without input_shape takes its input from x: a misspelled id is said
    as such, not as a missing input_shape."""
    misspelled = job(data={"x": "q", "y": "y"})  # job()'s first Dense has no input_shape
    assert refusals(misspelled, {"y": (10, 3)}) == [
        ErrorItem(("data", "x"), "no dataset 'q'; upload it first (POST /v1/datasets)")
    ]
    validation = job(fit={"validation_data": {"x": "vx", "y": "vy"}})
    assert refusals(validation, {**XY, "vx": (4, 4)}) == [
        ErrorItem(
            ("fit", "validation_data", "y"), "no dataset 'vy'; upload it first (POST /v1/datasets)"
        )
    ]


@pytest.mark.parametrize(
    ("samples", "validation_split"),
    [
        (10, 0.95),  # int(floor(10 * 0.05)) = 0 training samples
        (10, 0.9),  # 10 * (1 - 0.9) = 0.9999999999999998 in floats: 0 training samples
        (3, 1e-17),  # 1 - 1e-17 == 1.0: all 3 train and none validate
    ],
)
def test_validation_split_must_leave_samples_on_both_sides(
    samples: int, validation_split: float
) -> None:
    # Keras refuses a split at 0 or at the sample count
    # (keras/src/trainers/data_adapters/array_slicing.py, `train_validation_split`).
    spec = job(fit={"validation_split": validation_split})
    assert refusal(spec, {"x": (samples, 4), "y": (samples, 3)}) == ErrorItem(
        ("fit", "validation_split"),
        f"x holds {samples} samples, too few to split into training and validation sets "
        f"with validation_split={validation_split}",
    )


def test_class_weight_needs_one_output_and_no_sample_weight() -> None:
    several = two_heads(fit={"class_weight": {"0": 1.0}})
    assert refusal(several, TWO_SHAPES) == ErrorItem(
        ("fit", "class_weight"), "class_weight needs a model with one output"
    )
    both = "give class_weight or sample_weight, not both (Keras refuses them together)"
    weighted = job(
        fit={"class_weight": {"0": 1.0}}, data={"x": "x", "y": "y", "sample_weight": "w"}
    )
    assert refusal(weighted, {**XY, "w": (10,)}) == ErrorItem(("fit", "class_weight"), both)
    later = job(
        fit={"epochs": 2, "class_weight": {"0": 1.0}},
        data=[{"x": "x", "y": "y"}, {"x": "x", "y": "y", "sample_weight": "w"}],
    )
    assert refusal(later, {**XY, "w": (10,)}) == ErrorItem(("fit", "class_weight"), both)
    assert plan_job(job(fit={"class_weight": {"0": 1.0, "2": 3.0}}), XY).heads


def test_fit_arguments_that_need_each_other() -> None:
    assert refusal(job(fit={"validation_steps": 2}), XY) == ErrorItem(
        ("fit", "validation_steps"),
        "validation_steps needs validation data (validation_data or validation_split)",
    )
    per_epoch = job(fit={"epochs": 2, "validation_split": 0.2}, data=[{"x": "x", "y": "y"}] * 2)
    error = refusal(per_epoch, XY)
    assert error.loc == ("fit", "validation_split")
    assert "with data for each epoch, give validation_data" in error.msg


def test_a_callback_must_monitor_a_key_the_job_reports() -> None:
    spec = job(fit={"callbacks": [{"type": "EarlyStopping", "monitor": "val_loss"}]})
    assert refusal(spec, XY) == ErrorItem(
        ("fit", "callbacks", 0, "monitor"),
        "EarlyStopping monitors 'val_loss', which this job does not report; it reports "
        "loss (add validation_split or validation_data)",
    )


# -- Keras's validation_split ----------------------------------------------------------


@pytest.mark.parametrize(
    ("samples", "validation_split", "training"),
    [
        (10, 0.25, 7),  # floor(7.5)
        (100, 0.2, 80),
        (7, 0.3, 4),  # floor(4.9): the validation part gets the rounding
        # 10 * (1 - 0.8) is 1.9999999999999996 in floats; Keras floors it to 1, so 9 of
        # the 10 samples validate, not 8.
        (10, 0.8, 1),
        (10, 0.9, 0),
        (3, 1e-17, 3),
    ],
)
def test_split_point_is_keras_s(samples: int, validation_split: float, training: int) -> None:
    # keras/src/trainers/data_adapters/array_slicing.py, `train_validation_split`:
    # split_at = int(math.floor(batch_dim * (1.0 - validation_split))); the first split_at
    # samples train, the rest validate.
    assert split_point(samples, validation_split) == training


# -- stateful layers -------------------------------------------------------------------

STATEFUL: list[dict[str, Any]] = [
    {"type": "LSTM", "units": 3, "stateful": True, "return_sequences": True},
    {"type": "Bidirectional", "layer": {"type": "GRU", "units": 3, "stateful": True}},
    {"type": "Dense", "units": 1},
]
FIXED_BATCH: dict[str, Any] = {"type": "Input", "shape": [5, 2], "batch_size": 5}
BOTH = "layers 'lstm' (LSTM), 'bidirectional' (Bidirectional) have"


def test_stateful_layers_need_the_models_fixed_batch_size() -> None:
    model = model_of([{"type": "Input", "shape": [5, 2]}, *STATEFUL[:1], STATEFUL[2]])
    with pytest.raises(SpecError) as info:
        check_stateful_batches(model, 5, [("x", 10)], ("fit", "batch_size"))
    (error,) = info.value.errors
    assert error.loc == ("model",)
    assert error.msg.startswith(
        "layer 'lstm' (LSTM) has stateful=True, which needs the model's fixed batch size"
    )
    assert "give the model's Input a batch_size" in error.msg


def test_stateful_batches_must_be_the_models_batch_size() -> None:
    model = model_of([FIXED_BATCH, *STATEFUL])  # a Bidirectional's inner layer counts too
    with pytest.raises(SpecError) as info:
        check_stateful_batches(model, 4, [("x", 10)], ("fit", "batch_size"))
    assert info.value.errors == [
        ErrorItem(
            ("fit", "batch_size"),
            f"{BOTH} stateful=True with the model's batch size 5, but batches hold 4 "
            "samples; use batch_size=5",
        )
    ]


def test_stateful_sample_counts_must_be_multiples_of_the_batch_size() -> None:
    model = model_of([FIXED_BATCH, *STATEFUL])
    check_stateful_batches(model, 5, [("x", 10), ("validation_data", 5)], ("fit", "batch_size"))
    with pytest.raises(SpecError) as info:
        check_stateful_batches(
            model, 5, [("x", 10), ("validation_data", 12)], ("fit", "validation_batch_size")
        )
    assert info.value.errors == [
        ErrorItem(
            ("fit", "validation_batch_size"),
            f"{BOTH} stateful=True with batch size 5, but validation_data holds 12 samples: "
            "the last batch would hold 2, which Keras cannot run; give a multiple of 5 "
            "samples (e.g. 10)",
        )
    ]


def test_a_model_without_stateful_layers_takes_any_batches() -> None:
    model = model_of([{"type": "Input", "shape": [5, 2]}, {"type": "LSTM", "units": 3}])
    check_stateful_batches(model, 7, [("x", 10)], ("fit", "batch_size"))


def test_the_plan_checks_both_parts_of_a_validation_split_for_stateful_layers() -> None:
    shapes: Shapes = {"x": (20, 5, 2), "y": (20, 1)}
    fit = {"batch_size": 5, "shuffle": False}
    layers = [FIXED_BATCH, *STATEFUL]
    # 20 samples at 0.25: 15 train and 5 validate, both multiples of 5.
    assert plan_job(job(layers, fit={**fit, "validation_split": 0.25}), shapes)
    # At 0.2: 16 train, which leaves a last batch of 1.
    error = refusal(job(layers, fit={**fit, "validation_split": 0.2}), shapes)
    assert error.loc == ("fit", "batch_size")
    assert "the training part of x (validation_split) holds 16 samples" in error.msg
    validated = job(
        layers,
        fit={**fit, "validation_data": {"x": "vx", "y": "vy"}, "validation_batch_size": 4},
    )
    error = refusal(validated, {**shapes, "vx": (10, 5, 2), "vy": (10, 1)})
    assert error.loc == ("fit", "validation_batch_size")
    assert "batches hold 4 samples; use batch_size=5" in error.msg
