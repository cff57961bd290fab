"""API fuzzing with schemathesis: no generated request may make the server answer 5xx, and every answer
conforms to the OpenAPI document (its status, content type and body are documented; issue 17).

The pytest plugin of schemathesis does not run under pytest 9, so the operations' Hypothesis
strategies are drawn inside one ordinary Hypothesis test instead.
"""

from __future__ import annotations

import jsonschema_rs
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.orm import Session

from banso.kit.clock import FakeClock
from tests.support.factories import Factory
from tests.support.http import bearer

EXAMPLES_PER_OPERATION = 4
# What every answer is checked for: no 5xx; its status, content type and body documented in the OpenAPI
# document (web/openapi.py completes FastAPI's with the errors, the security scheme and the file types).
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def test_no_server_errors(app, db: Session, factory: Factory, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    admin = factory.person(roles=("admin", "auditor"))
    headers = bearer(db, admin, clock)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    seen: set[str] = set()

    # Every operation gets its own examples: one shared draw from `sampled_from` leans to the first
    # operations (Hypothesis shrinks towards them), and with 139 operations it once reached fewer than half.
    def fuzz(operation: schemathesis.APIOperation) -> None:
        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def run(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            seen.add(f"{case.method} {case.path}")
            case.validate_response(response, checks=CHECKS, headers=headers)

        run()

    for operation in operations:
        fuzz(operation)
    assert seen == {f"{o.method.upper()} {o.path}" for o in operations}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PUBLIC = {"/api/v1/information/public/items", "/api/v1/information/public/items/{item_id}",
          "/api/v1/information/public/items/{item_id}/files/{file_id}"}


def _media(doc: dict, path: str, status: str = "200") -> set[str]:  # type: ignore[type-arg]
    return set(doc["paths"][path]["get"]["responses"][status].get("content", {}))


def test_openapi_document_is_valid_and_complete(client) -> None:  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").json()
    schemathesis.openapi.from_dict(doc).validate()  # the OpenAPI 3.1 meta-schema
    for name, schema in doc["components"]["schemas"].items():  # each schema is valid JSON Schema 2020-12
        assert jsonschema_rs.meta.is_valid(schema), name
    schemes = doc["components"]["securitySchemes"]
    assert list(schemes) == ["apiToken"] and (schemes["apiToken"]["type"], schemes["apiToken"]["scheme"]) == (
        "http", "bearer")  # API tokens only: the session cookie is for pages
    operations = [(path, method, op) for path, ops in doc["paths"].items() for method, op in ops.items()]
    for path, method, op in operations:
        # Public pages of published items accept a token but need none; everything else needs one.
        assert op["security"] == ([{}, {"apiToken": []}] if path in PUBLIC else [{"apiToken": []}]), (method, path)
        for status in ("401", "403", "404", "422", "429", "503"):
            assert op["responses"][status]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"}, (method, path, status)
        assert ("413" in op["responses"]) == ("requestBody" in op), (method, path)
    assert set(doc["components"]["schemas"]["Error"]["properties"]) == {"error", "message", "field", "problems"}
    assert _media(doc, "/api/v1/programme/agencies/{code}/ledger.xlsx") == {XLSX}
    assert _media(doc, "/api/v1/programme/calls.xlsx") == {XLSX}
    assert _media(doc, "/api/v1/programme/registry/export") == {"application/yaml", "text/csv"}
    assert _media(doc, "/api/v1/councils/{council_id}/pledges/{pledge_id}/pdf") == {"application/pdf"}
    assert _media(doc, "/api/v1/information/items/{item_id}/body.txt") == {"text/plain"}
    assert _media(doc, "/api/v1/programme/commissions/{commission_id}/deliverables/{deliverable_id}") == {
        "application/octet-stream"}
    for download in ("/api/v1/information/items/{item_id}/files/{file_id}",
                     "/api/v1/information/public/items/{item_id}/files/{file_id}",
                     "/api/v1/councils/{council_id}/requests/{request_id}/files/{file_id}"):
        assert {"application/octet-stream", "application/pdf", XLSX} <= _media(doc, download)
        assert "application/json" not in _media(doc, download)
