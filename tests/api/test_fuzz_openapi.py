"""Fuzz every operation of the hub's own /openapi.json with schemathesis, both ways.

Responses: any 5xx, undocumented status code, wrong content type, or body or header that does
not match its documented schema fails. Requests: data the document says is invalid must be
refused (negative data rejection), and data it says is valid must not be refused for its shape
(see ``shape_accepted``). Then a stateful run chains operations through the links schemathesis
infers (create, read, change, delete; use after delete). Every endpoint added later inherits
these checks.

The fuzzer holds an admin key that it cannot revoke: a case aimed at that key's id is pointed
at another id, so the run cannot lock itself out midway.

Budget: MDM_FUZZ_EXAMPLES examples per operation and mode (default 6: with 101 operations,
two modes and the stateful run that is over 1,000 cases in CI, in a few minutes).
"""
from __future__ import annotations

import os
import re
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure

EXAMPLES = int(os.environ.get("MDM_FUZZ_EXAMPLES", "6"))
STATEFUL_EXAMPLES = int(os.environ.get("MDM_FUZZ_STATEFUL_EXAMPLES", str(max(EXAMPLES * 5, 30))))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "shape_accepted",
    "use_after_free",
    "ensure_resource_availability",
]
# marshmallow's messages for a value of the wrong shape: the document should have said so.
SHAPE_MESSAGES = re.compile(
    r"Not a valid (string|integer|number|boolean|mapping type|list|datetime|date|time|UUID)\."
    r"|Field may not be null\.|Missing data for required field\.|Unknown field\."
    r"|Invalid (input )?type\.|Length must be|Must be one of|Must be (greater|less) than"
    r"|Invalid JSON body\.")


class RejectedValidShape(Failure):
    """A request the document says is well formed was refused for its shape."""

    kind_title = "Schema-valid request refused for its shape"


def _reasons(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        return [r for key, value in errors.items() for r in _reasons(value, f"{prefix}{key}.")]
    if isinstance(errors, list):
        return [r for item in errors for r in _reasons(item, prefix)]
    return [f"{prefix.rstrip('.')}: {errors}"]


@schemathesis.check
def shape_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    """Positive data may be refused for what the document cannot express (an unknown domain, a
    cron expression that does not parse, a state transition not allowed now: 404/409/412/422),
    never for its shape: a 400, or a 422 whose reasons are marshmallow's type, null, required,
    unknown-field, length, range or choice messages, means the document and the server
    disagree."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code == 400:
        raise RejectedValidShape(operation=case.operation.label,
                                 message=f"400: {response.text[:300]}")
    if response.status_code == 422:
        body = response.json() if "json" in response.headers.get("content-type", [""])[0] \
            else {}
        reasons = [r for r in _reasons(body.get("errors") or {})
                   if SHAPE_MESSAGES.search(r)]
        if reasons:
            raise RejectedValidShape(operation=case.operation.label,
                                     message="422: " + "; ".join(reasons)[:800])
    return None


def _schema(app: Any) -> Any:
    config = SchemathesisConfig()
    project = config.projects.default
    # The hub refuses NUL characters everywhere (PostgreSQL cannot store them), a rule the
    # catalogue test (test_bad_input.py) holds; strings are generated without them.
    project.generation.update(allow_x00=False, codec="utf-8", deterministic=True,
                              database="none", max_examples=EXAMPLES)
    project.checks.update(included_check_names=CHECKS)
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)


@pytest.fixture
def fuzz_key(app: Any, clean_db: None, sources: list[str]) -> tuple[dict[str, str], str]:
    """An admin key (every role check passes, so cases reach the real handlers) and its id."""
    from mdm.auth import service
    from mdm.context import cli_context
    from mdm.db import db

    with app.app_context():
        issued = service.create_key(db.session, cli_context(), role="admin", name="fuzzer")
        key_id = issued.key.id
        db.remove_session()
    return {"Authorization": f"Bearer {issued.secret}"}, key_id


def _spare_own_key(case: Any, own_id: str) -> None:
    params = case.path_parameters or {}
    if params.get("key_id") == own_id:
        params["key_id"] = "not-the-fuzzers-key"


def _still_valid(app: Any, headers: dict[str, str]) -> None:
    assert app.test_client().get("/api-keys", headers=headers).status_code == 200, \
        "the fuzzer's own key was revoked"


def test_every_operation_conforms_both_ways(app: Any,
                                            fuzz_key: tuple[dict[str, str], str]) -> None:
    headers, own_id = fuzz_key
    schema = _schema(app)
    failures = []
    ops = [result.ok() for result in schema.get_all_operations()]
    assert len(ops) > 90
    cases = 0
    for op in ops:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=op.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None,
                      suppress_health_check=list(HealthCheck), derandomize=True, database=None)
            def run(case: Any) -> None:
                nonlocal cases
                cases += 1
                _spare_own_key(case, own_id)
                case.call_and_validate(headers=headers)

            try:
                run()
            except Unsatisfiable:  # no parameters or body to make invalid (GET /health)
                assert mode is GenerationMode.NEGATIVE
            except (Exception, BaseExceptionGroup) as exc:  # collect every failing operation
                failures.append(f"{op.method.upper()} {op.path} [{mode.value}]: {exc}")
    _still_valid(app, headers)
    assert not failures, "\n\n".join(failures)
    print(f"{cases} cases over {len(ops)} operations")
    assert cases >= 2 * len(ops)


def _fresh_start(app: Any, own_id: str) -> Any:
    """Each scenario starts from the same database (the three source systems and the fuzzer's
    key), so what a step can do never depends on an earlier scenario: Hypothesis requires
    that (FlakyStrategyDefinition otherwise)."""
    from sqlalchemy import insert, select, text

    from mdm.auth.models import ApiKey
    from mdm.db import db
    from mdm.schema import all_metadata
    from mdm.sources.models import SourceSystem

    with app.app_context():
        keep = {
            SourceSystem.__table__: [dict(r._mapping) for r in db.session.execute(
                select(SourceSystem.__table__))],
            ApiKey.__table__: [dict(r._mapping) for r in db.session.execute(
                select(ApiKey.__table__).where(ApiKey.id == own_id))],
        }
        db.remove_session()

    def reset() -> None:
        with app.app_context():
            db.remove_session()
            tables = [t for metadata in all_metadata for t in metadata.sorted_tables]
            with db.engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    names = ", ".join(t.name for t in tables)
                    conn.execute(text(f"TRUNCATE {names} CASCADE"))  # sequences go on
                else:
                    for table in reversed(tables):
                        conn.execute(table.delete())
                for table, rows in keep.items():
                    if rows:
                        conn.execute(insert(table), rows)

    return reset


def test_stateful_sequences_conform(app: Any, fuzz_key: tuple[dict[str, str], str]) -> None:
    headers, own_id = fuzz_key
    schema = _schema(app)
    base = schema.as_state_machine()

    calls: list[str] = []

    fresh_start = _fresh_start(app, own_id)

    class HubStateMachine(base):  # type: ignore[valid-type, misc]
        def setup(self) -> None:
            fresh_start()

        def before_call(self, case: Any) -> None:
            _spare_own_key(case, own_id)
            calls.append(f"{case.method} {case.path}")

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": headers}

    # Generation only: replaying a scenario to shrink it cannot recreate the ids the server
    # gave out the first time. A failure is still reported, as found.
    HubStateMachine.run(settings=settings(
        max_examples=STATEFUL_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
        derandomize=True, database=None, stateful_step_count=8,
        phases=[Phase.explicit, Phase.generate]))
    _still_valid(app, headers)
    print(f"stateful: {len(calls)} calls over {len(set(calls))} operations")
    assert len(calls) >= STATEFUL_EXAMPLES and len(set(calls)) > 10
