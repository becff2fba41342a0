"""The OpenAPI document keeps the rules of docs/api.md: one Problem schema, examples that are real
and valid, readable operationIds, declared headers and filters, no 304 on POST."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from fastapi.testclient import TestClient

from api import examples
from api.app import create_app
from api.openapi import API_VERSION
from kb import __version__
from kb.settings import Settings

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def client(real_build: tuple[str, Path]) -> TestClient:
    url, index_dir = real_build
    return TestClient(create_app(Settings(database_url=url, index_dir=index_dir)))


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    served: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    return served


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        if path.startswith("/api/v1/")
        for method, operation in methods.items()
    ]


def valid(document: dict[str, Any], schema: dict[str, Any], value: Any) -> list[str]:
    """Errors of `value` against `schema`, with the document's components to resolve $refs."""
    rooted = {**schema, "components": document["components"]}
    validator = jsonschema_rs.validator_for(rooted)
    return [str(e) for e in validator.iter_errors(value)]


def test_the_document_names_its_own_version_servers_and_no_security(
    document: dict[str, Any],
) -> None:
    assert document["info"]["version"] == API_VERSION != __version__
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", API_VERSION)
    assert API_VERSION in (Path("docs") / "api-changelog.md").read_text()
    assert document["servers"] == [{"url": "/"}]
    assert document["security"] == []


def test_every_error_response_refers_to_the_one_problem_schema(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        errors = {s: r for s, r in operation["responses"].items() if s[0] in "45"}
        assert {"404", "422", "503"} <= set(errors), (method, path)
        for status, response in errors.items():
            assert response["content"] == {"application/problem+json": {"schema": PROBLEM}}, (
                method,
                path,
                status,
            )
    assert "Problem" in document["components"]["schemas"]


def test_operation_ids_are_readable_and_unique(document: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", operation_id), operation_id


def test_gets_declare_their_cache_headers_and_posts_have_no_304(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        ok = operation["responses"]["200"]
        if method == "get":
            assert {"ETag", "Cache-Control", "Cache-Status"} <= set(ok["headers"]), path
            assert "304" in operation["responses"], path
        else:
            assert "304" not in operation["responses"], path
        if "application/json" not in ok["content"] or path.endswith(".json"):
            assert "Content-Disposition" in ok["headers"], path


def test_json_operations_answer_json_and_documents_one_media_type(
    document: dict[str, Any],
) -> None:
    for path, _, operation in operations(document):
        content = operation["responses"]["200"]["content"]
        assert len(content) == 1, path
        (media,) = content
        if media != "application/json":
            assert content[media]["schema"]["type"] == "string", path


def test_every_operation_has_an_example_valid_against_its_own_schema(
    document: dict[str, Any],
) -> None:
    for path, method, operation in operations(document):
        ((_, content),) = operation["responses"]["200"]["content"].items()
        binary = content["schema"].get("format") == "binary"
        assert binary or "example" in content, (method, path)
        if "example" in content:
            assert valid(document, content["schema"], content["example"]) == [], (method, path)
        for parameter in operation.get("parameters", []):
            if parameter["in"] in ("path", "query") and parameter.get("required"):
                shown = parameter.get("example") or parameter["schema"].get("examples")
                assert shown, (path, parameter["name"])
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            assert body["examples"], path
            for example in body["examples"].values():
                assert valid(document, body["schema"], example["value"]) == [], path


def shape(value: Any) -> Any:
    """The structure of an answer: its keys, not its values, so that editing protocols/ does not
    stale an example while a change to the API's answers does (each example is also validated
    against its schema, above)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "value"


def test_the_examples_are_shaped_like_real_answers(client: TestClient) -> None:
    """api/openapi-examples.json holds answers of the API over protocols/ (make openapi-examples):
    each example has the shape of what the same request answers now."""
    for operation, (method, url, body) in examples.REQUESTS.items():
        response = client.request(method, url, json=body)
        assert response.status_code == 200, operation
        assert shape(examples.trimmed(response.json())) == shape(examples.examples()[operation]), (
            f"{operation}: run `make openapi-examples`"
        )


def test_every_codebook_key_is_a_declared_and_checked_filter(
    document: dict[str, Any], client: TestClient
) -> None:
    listing = document["paths"]["/api/v1/protocols"]["get"]
    declared = {p["name"]: p for p in listing["parameters"]}
    keys = client.get("/api/v1/codebook", params={"limit": 200}).json()["data"]
    assert len(keys) >= 10
    for key in keys:
        schema = declared[key["key"]]["schema"]
        if key["type"] in ("choice", "boolean"):
            expected = ["null" if v is None else str(v).lower() for v in key["values"]]
            assert schema["enum"] == expected, key["key"]
            first = client.get("/api/v1/protocols", params={key["key"]: schema["enum"][0]})
            assert first.status_code == 200
        wrong = client.get("/api/v1/protocols", params={key["key"]: "bogus"})
        if key["type"] != "text":
            assert wrong.status_code == 422, key["key"]
            assert wrong.json()["errors"] == [
                {"parameter": key["key"], "detail": wrong.json()["detail"]}
            ]


def test_answers_have_every_field_of_their_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    names = ("ProtocolPublic", "ProvisionPublic", "CodedAnswerPublic", "Pagination")
    for name in (*names, "DraftAnswer", "Ask", "AskPoint"):
        schema = schemas[name]
        assert set(schema["required"]) == set(schema["properties"]), name
    options = schemas["DraftOptions"]
    assert options["required"] == ["adopter"]
    assert options["additionalProperties"] is False
    level = schemas["Adopter"]["properties"]["level"]
    assert set(level["enum"]) == {"state", "county", "city", "district"}


def test_a_draft_for_the_district_of_columbia(client: TestClient) -> None:
    body = {"adopter": {"name": "District of Columbia", "level": "district"}}
    draft = client.post("/api/v1/drafts", json=body)
    assert draft.status_code == 200
    assert draft.json()["data"]["adopter"]["level"] == "district"


def test_bulk_data_is_the_dump_and_the_coded_answers(client: TestClient) -> None:
    from kb import store
    from kb.export import export_json

    dump = client.get("/api/v1/bulk/export.json")
    assert dump.status_code == 200 and dump.headers["etag"]
    with store.session(client.app.state.engine) as db:  # type: ignore[attr-defined]
        assert dump.text == export_json(db)
        version = store.build_info(db).version
        answers = sum(len(p.coding) for p in store.get_protocols(db))
        protocols = len(store.get_protocols(db))
        keys = len(store.codebook_keys(db))
    assert f'filename="protocol-kb-{version}.json"' in dump.headers["content-disposition"]
    assert (
        client.get(
            "/api/v1/bulk/export.json", headers={"If-None-Match": dump.headers["etag"]}
        ).status_code
        == 304
    )
    table = client.get("/api/v1/bulk/coded-answers.csv")
    lines = table.text.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("protocol_id,jurisdiction_id,status,year,key,value,label,rank")
    import csv

    rows = list(csv.DictReader(lines))
    assert len(rows) == protocols * keys
    assert sum(1 for r in rows if r["value"]) <= answers
    cook = next(
        r for r in rows if r["protocol_id"] == examples.COOK and r["key"] == "detainer_response"
    )
    assert cook["value"] == "conditional" and cook["provision_ids"]
