"""Datasets: one .npy array per upload, referenced by jobs through its id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile

from cornu.api.deps import SettingsDep, StoreDep, TenantDep
from cornu.api.routes.jobs import IdempotencyKey
from cornu.core.datasets import upload_dataset
from cornu.core.spec import Dataset

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])


@router.post("", status_code=201)
def create_dataset(
    file: Annotated[UploadFile, File(description="one array saved with numpy.save (.npy)")],
    tenant: TenantDep,
    store: StoreDep,
    settings: SettingsDep,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Dataset:
    """Store one numeric array; with an Idempotency-Key, a repeat returns the first upload."""
    dataset, new = upload_dataset(
        store, tenant, file.file, settings.max_upload_bytes, idempotency_key=idempotency_key
    )
    response.headers["Location"] = f"/v1/datasets/{dataset.id}"
    if not new:
        response.headers["Idempotent-Replayed"] = "true"
    return dataset


@router.get("")
def find_dataset(
    tenant: TenantDep,
    store: StoreDep,
    sha256: Annotated[str, Query(pattern="^[0-9a-f]{64}$", description="the .npy file's SHA-256")],
) -> Dataset:
    """The tenant's dataset with this content (the SDK uploads an array once); 404 if none."""
    return store.datasets.by_sha256(tenant, sha256)


@router.get("/{dataset_id}")
def get_dataset(dataset_id: str, tenant: TenantDep, store: StoreDep) -> Dataset:
    return store.datasets.get(tenant, dataset_id)
