"""Response examples of the OpenAPI document: real answers of the API over protocols/, trimmed
(lists to their first item, long text cut), kept in api/openapi-examples.json.

`python -m api.examples` rewrites that file from a build of protocols/ (`make openapi-examples`);
tests/api/test_contract.py validates every example against its operation's schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).with_name("openapi-examples.json")
COOK = "us-il-cook-county/ordinance-11-o-73"
DATASET = {"version": "3f9c2a1b7d4e8f60", "built_at": "2026-11-23T00:00:00Z"}
MAX_TEXT = 160
ICE_287G_SAMPLES = Path("tests/fixtures/ice-287g")
"""Real captures of ICE's 287(g) lists, imported beside protocols/ for the registry's examples."""
MIAMI_DADE_TFM = "fl-miami-dade-sheriffs-office-task-force-2025-02-26"

REQUESTS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "listJurisdictions": ("GET", "/api/v1/jurisdictions?limit=1", None),
    "getJurisdiction": ("GET", "/api/v1/jurisdictions/us-il-cook-county", None),
    "resolveJurisdiction": ("GET", "/api/v1/resolve/us-tx-harris-county?as_of=2026-12-01", None),
    "listProtocols": ("GET", "/api/v1/protocols?limit=1&level=county", None),
    "getProtocol": ("GET", f"/api/v1/protocols/{COOK}", None),
    "listProtocolProvisions": ("GET", f"/api/v1/protocols/{COOK}/provisions?limit=1", None),
    "getProvision": ("GET", f"/api/v1/provisions/{COOK}/sec-46-37-a", None),
    "listCodebookKeys": ("GET", "/api/v1/codebook?limit=1", None),
    "getCodebookKey": ("GET", "/api/v1/codebook/juvenile_holds", None),
    "listTopics": ("GET", "/api/v1/topics?limit=1", None),
    "getTopic": ("GET", "/api/v1/topics/juveniles", None),
    "listContextRecords": ("GET", "/api/v1/context?limit=1", None),
    "getContextRecord": ("GET", "/api/v1/context/galarza-v-szalczyk", None),
    "searchRecords": ("GET", "/api/v1/search?q=juvenile+detainer&limit=1", None),
    "compareProtocols": (
        "GET",
        f"/api/v1/compare?protocols={COOK},us-dc/law-19-194&keys=detainer_response&topics=detainers",
        None,
    ),
    "diffVersions": ("GET", "/api/v1/diff?from=us-ca/ab-1081-2012&to=us-ca/ab-4-2013", None),
    "createDraft": (
        "POST",
        "/api/v1/drafts",
        {
            "adopter": {"name": "Example County", "level": "county"},
            "choices": {"detainer_response": "strongest"},
            "default": "omit",
        },
    ),
    "getGaps": ("GET", f"/api/v1/gaps/{COOK}", None),
    "listScores": ("GET", "/api/v1/scores?limit=1", None),
    "getScore": ("GET", f"/api/v1/scores/{COOK}", None),
    "listRegistryAgreements": (
        "GET",
        "/api/v1/287g/agreements?state=FL&county=miami-dade&limit=1",
        None,
    ),
    "getRegistryAgreement": ("GET", f"/api/v1/287g/agreements/{MIAMI_DADE_TFM}", None),
    "listRegistryCaptures": ("GET", "/api/v1/287g/captures?limit=1", None),
}
"""operationId -> the request whose (trimmed) answer is its example."""


def examples() -> dict[str, Any]:
    """The examples, by operationId, from api/openapi-examples.json (none before it is written)."""
    if not EXAMPLES.exists():
        return {}
    loaded: dict[str, Any] = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return loaded


def trimmed(value: Any) -> Any:
    """Lists of records cut to their first, long text cut at a word, numbers rounded, the
    dataset stamp fixed (lists of plain values, such as a key's allowed values or a term and its definition, stay
    whole)."""
    if isinstance(value, dict):
        return {k: DATASET if k == "dataset" else trimmed(v) for k, v in value.items()}
    if isinstance(value, list):
        records = any(isinstance(v, (dict, list)) for v in value)
        return [trimmed(v) for v in (value[:1] if records else value)]
    if isinstance(value, float):
        return round(value, 2)  # a relevance score: its last digits are noise across builds
    if isinstance(value, str) and len(value) > MAX_TEXT and "<mark>" not in value:
        return value[:MAX_TEXT].rsplit(" ", 1)[0] + " …"
    return value


def write_examples(client: Any) -> dict[str, Any]:
    """Ask the API (a TestClient over a build of protocols/) for every example."""
    found = {}
    for operation, (method, url, body) in REQUESTS.items():
        response = client.request(method, url, json=body)
        if response.status_code != 200:
            raise SystemExit(f"{operation}: {method} {url} answered {response.status_code}")
        found[operation] = trimmed(response.json())
    EXAMPLES.write_text(json.dumps(found, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return found


def main() -> None:
    """Build protocols/ into a temporary folder and write the examples from it."""
    import tempfile

    from fastapi.testclient import TestClient

    from api.app import create_app
    from kb.build import build
    from kb.db import make_engine
    from kb.registry import import_captures
    from kb.settings import Settings
    from search_index.build import build_index

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/kb.sqlite3"
        build(Path("protocols"), url)
        import_captures(sorted(ICE_287G_SAMPLES.glob("*.xlsx")), url)
        build_index(make_engine(url), Path(folder) / "index")
        app = create_app(Settings(database_url=url, index_dir=Path(folder) / "index"))
        write_examples(TestClient(app))
    sys.stdout.write(f"wrote {EXAMPLES}\n")


if __name__ == "__main__":
    main()
