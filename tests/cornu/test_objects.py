"""The SDK names Keras's losses and metrics by hand (it must not import the torch engine
that defines them): each name it offers is one the service accepts, and every loss the
service has, the SDK offers."""

from __future__ import annotations

import pytest

from cornu import losses, metrics
from cornu.core.engine import losses as engine_losses
from cornu.core.engine import metrics as engine_metrics
from cornu.core.spec.layers.base import KerasObject


def test_the_sdk_offers_exactly_the_services_losses() -> None:
    assert set(losses.__all__) == {cls.__name__ for cls in engine_losses.LOSSES.values()}
    for name in losses.__all__:
        engine_losses.get(KerasObject(type=name))  # accepted, without arguments


@pytest.mark.parametrize("name", metrics.__all__)
def test_each_sdk_metric_is_one_the_service_accepts(name: str) -> None:
    sparse = name.startswith("Sparse")
    y_shape, output_shape = ((1,) if sparse else (4,)), (4,)
    metric = engine_metrics.get(KerasObject(type=name), y_shape, output_shape)
    assert metric.name  # a history key, as Keras names it
