"""Fuzz every operation of the hub's own /openapi.json with schemathesis.

Any 5xx, undocumented status code, wrong content type or body that does not match its
documented schema fails the test. Every endpoint added later inherits this check.
"""
from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# A few hundred generated cases across all operations in CI; raise locally with
# MDM_FUZZ_EXAMPLES=200 for a deeper run.
EXAMPLES = int(os.environ.get("MDM_FUZZ_EXAMPLES", "12"))


@pytest.fixture
def fuzz_headers(make_key: Any, sources: list[str]) -> dict[str, str]:
    # An admin key passes every role check, so generated cases reach the real handlers.
    return make_key("admin")


def operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_every_operation_conforms(app: Any, fuzz_headers: dict[str, str]) -> None:
    # The operations are looped here rather than through schemathesis' pytest plugin, whose
    # lazy-fixture loader does not work with pytest 9.
    failures = []
    ops = operations(app)
    assert len(ops) > 10
    for op in ops:

        @given(case=op.as_strategy())
        @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def run(case: Any) -> None:
            case.call_and_validate(headers=fuzz_headers, checks=CHECKS)

        try:
            run()
        except Exception as exc:  # collect every failing operation, not only the first
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
