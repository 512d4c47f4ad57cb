"""stateful=True recurrent layers against Keras 3.15 (`tests/data/keras/gen_stateful.py`):
states carried across batches and calls, reset by `reset_states`, carried through fit
into the following predict; fit's losses with the same weights and data; and the
submit-time checks that turn what Keras would crash on into a SpecError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from cornu.core.engine import train_job
from cornu.core.engine.layers.stateful import CarriedStates, reset_states
from cornu.core.engine.trainer import Trainer
from cornu.core.errors import SpecError
from cornu.core.spec import JobSpec
from cornu.core.spec.keras_json import from_keras

REFERENCE = json.loads(
    (Path(__file__).parents[3] / "data" / "keras" / "stateful_outputs.json").read_text()
)
CASES = REFERENCE["cases"]
BATCH = REFERENCE["meta"]["batch"]


def _job(case: dict[str, Any], **fit: Any) -> tuple[JobSpec, dict[str, np.ndarray]]:
    arrays = {"x": np.array(case["x"], np.float32), "y": np.array(case["y"], np.float32)}
    spec = JobSpec.model_validate(
        {
            "model": from_keras(json.dumps(case["model"])),
            "compile": {"optimizer": {"type": "SGD", "learning_rate": 0.1}, "loss": "mse"},
            "fit": {"batch_size": BATCH, "epochs": 2, "shuffle": False, "seed": 0, **fit},
            "data": {"x": "x", "y": "y"},
        }
    )
    return spec, arrays


def _keras_weights(case: dict[str, Any]) -> tuple[str, dict[str, torch.Tensor]]:
    return "keras", {k: torch.tensor(v) for k, v in case["weights"].items()}


@pytest.mark.parametrize("name", CASES)
def test_predictions_carry_states_as_keras_does(name: str) -> None:
    case = CASES[name]
    spec, arrays = _job(case, epochs=0)
    result = train_job(spec, arrays, initial_weights=_keras_weights(case))
    trainer = Trainer(result.model.eval(), result.plan.heads)
    x = [torch.from_numpy(arrays["x"])]

    def predict() -> np.ndarray:
        return trainer.predict(x, batch_size=BATCH)[0].numpy()

    first, second = predict(), predict()
    np.testing.assert_allclose(first, case["predict_1"], atol=1e-5)
    np.testing.assert_allclose(second, case["predict_2"], atol=1e-5)
    assert not np.allclose(first, second, atol=1e-4)  # the states did carry
    reset_states(result.model)
    np.testing.assert_allclose(predict(), case["predict_reset"], atol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_fit_losses_and_the_predict_after_it_match_keras(name: str) -> None:
    case = CASES[name]
    spec, arrays = _job(case)
    result = train_job(spec, arrays, initial_weights=_keras_weights(case))
    np.testing.assert_allclose(result.history.history["loss"], case["fit_loss"], rtol=1e-5)
    trainer = Trainer(result.model.eval(), result.plan.heads)
    after = trainer.predict([torch.from_numpy(arrays["x"])], batch_size=BATCH)[0].numpy()
    np.testing.assert_allclose(after, case["predict_after_fit"], atol=1e-5)


def test_states_are_not_weights_and_carry_no_gradient() -> None:
    case = CASES["lstm"]
    spec, arrays = _job(case, epochs=1)
    result = train_job(spec, arrays, initial_weights=_keras_weights(case))
    model = result.model
    assert not any("state_" in k for k in model.state_dict())
    assert set(model.keras_weights()) == set(case["weights"])
    carried = [m for m in model.modules() if isinstance(m, CarriedStates)]
    assert len(carried) == 1
    values = carried[0].values()
    assert values is not None and values[0].shape == (BATCH, 3)
    assert all(v.grad_fn is None and not v.requires_grad for v in values)


def test_a_training_checkpoint_keeps_the_states() -> None:
    case = CASES["gru"]
    spec, arrays = _job(case, epochs=1)
    result = train_job(spec, arrays, initial_weights=_keras_weights(case))
    assert result.trainer is not None
    saved = result.trainer.capture(end_of_epoch=True)["rnn_states"]
    assert len(saved) == 1 and next(iter(saved.values())).abs().sum() > 0


def test_a_model_without_a_fixed_batch_size_is_refused() -> None:
    case = CASES["simple_rnn"]
    model = json.loads(json.dumps(case["model"]))
    model["config"]["layers"][0]["config"]["batch_shape"][0] = None
    spec, arrays = _job({**case, "model": model})
    with pytest.raises(
        SpecError, match=r"'simple_rnn' \(SimpleRNN\) has stateful=True.*batch_size"
    ):
        train_job(spec, arrays)


def test_batches_of_another_size_are_refused() -> None:
    spec, arrays = _job(CASES["lstm"], batch_size=3)
    with pytest.raises(SpecError, match="model's batch size 2, but batches hold 3"):
        train_job(spec, arrays)


def test_a_last_partial_batch_is_refused_with_the_numbers() -> None:
    spec, arrays = _job(CASES["gru"])
    arrays = {k: v[:5] for k, v in arrays.items()}
    with pytest.raises(SpecError, match=r"'gru' \(GRU\).*batch size 2.*x holds 5 samples.*hold 1"):
        train_job(spec, arrays)


def test_a_validation_split_must_leave_whole_batches() -> None:
    spec, arrays = _job(CASES["simple_rnn"], validation_split=0.5)  # 3 and 3 of 6
    with pytest.raises(SpecError, match="training part of x"):
        train_job(spec, arrays)


def test_a_wrong_batch_in_the_engine_fails_as_keras_does() -> None:
    case = CASES["lstm"]
    spec, arrays = _job(case, epochs=0)
    model = train_job(spec, arrays).model.eval()
    x = torch.from_numpy(arrays["x"])
    with torch.no_grad():
        model(x[:BATCH])
        with pytest.raises(ValueError, match="expected 2, received 1"):
            model(x[:1])
