"""`python -m cornu.worker.main`: the processes a worker host starts, and what each one
knows of itself (its slot and role) before the Celery app reads its settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from cornu.core.config import get_settings
from cornu.worker.main import children_for, configure_process


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("CORNU_WORKER_SLOT", "CORNU_WORKER_ROLE", "CORNU_QUEUE", "CORNU_INFERENCE_QUEUE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_process_knows_its_slot_and_role_even_after_settings_were_read(
    fresh_settings: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert get_settings().worker_role == "training"  # read (and cached) before, as main does
    monkeypatch.setenv("CORNU_WORKER_SLOT", "0")  # restored after the test
    monkeypatch.setenv("CORNU_WORKER_ROLE", "training")
    configure_process(2, "inference")
    settings = get_settings()
    assert settings.worker_role == "inference" and settings.worker_slot == 2


def test_a_host_runs_a_training_process_per_slot_and_one_for_inference(
    fresh_settings: None,
) -> None:
    children = children_for(["cornu", "cornu.inference"], concurrency=3, accelerator="a100",
                            slots=2)  # fmt: skip
    assert children == [
        ["--queues=cornu,cornu.a100", "--role=training", "--slot=0"],
        ["--queues=cornu,cornu.a100", "--role=training", "--slot=1"],
        ["--queues=cornu.inference", "--pool=threads", "--concurrency=3", "--role=inference"],
    ]
    assert children_for(["cornu.inference"]) == [
        ["--queues=cornu.inference", "--pool=threads", "--concurrency=2", "--role=inference"]
    ]
