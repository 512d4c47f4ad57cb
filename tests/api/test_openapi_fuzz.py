"""The whole OpenAPI, fuzzed against the live API (schemathesis, a fixed seed, bounded
examples, valid and malformed requests): no request gets a 5xx, and every status that
comes back is one the document declares for its operation.

The document is the app's own (built in-process at collection: one test per operation);
the requests go to the session's API over HTTP. The tenant is an admin with room to
spare (its rate raised), so the admin API is fuzzed too and nothing is refused for
speed; what a request creates (keys of random tenants, small datasets) stays in the
session's Redis.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, status_code_conformance

from cornu.api.app import create_app
from cornu.core.spec import QuotaChange
from cornu.core.store import Store

EXAMPLES = 30  # per operation, valid and malformed together
SCHEMA = schemathesis.openapi.from_dict(create_app().openapi())
OPERATIONS = {op.label: op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture(scope="module")
def admin_key(redis_url: str) -> Iterator[str]:
    store = Store.from_url(redis_url)
    tenant = f"fuzz{time.time_ns()}"
    key, _ = store.tenants.issue(tenant, scope="admin")
    store.quotas.set(tenant, QuotaChange(requests_per_second=10_000, request_burst=10_000))
    store.close()
    yield key


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_no_request_gets_a_server_error_or_an_undocumented_status(
    label: str, admin_key: str, api_url: str
) -> None:
    operation = OPERATIONS[label]
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,  # a fixed seed: the same cases every run
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases)
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(
            base_url=api_url,
            headers={"Authorization": f"Bearer {admin_key}"},
            checks=[not_a_server_error, status_code_conformance, content_type_conformance],
            timeout=30,
        )

    check()
