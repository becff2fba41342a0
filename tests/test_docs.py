"""The docs stay true to the code: settings, quick start."""

from __future__ import annotations

import re

from api.templating import embed_parent_script
from kb.settings import Settings
from tests.conftest import ROOT


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:sh|bash|console)?\n(.*?)```", section, re.S)
    return [
        line.strip()
        for block in blocks
        for line in block.splitlines()
        if line.strip() and not line.startswith("#")
    ]


def test_quick_start_is_two_commands_and_ci_runs_the_test_command() -> None:
    commands = quick_start_commands()
    assert commands == ["make serve", "make test"]
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    for name in Settings.model_fields:
        assert f"`KB_{name.upper()}`" in doc, (
            f"docs/configuration.md does not list KB_{name.upper()}"
        )


def test_every_api_route_is_documented() -> None:
    """Every path and method of the app's own OpenAPI schema appears in docs/api.md."""
    import re as regex

    from api.app import create_app

    doc = (ROOT / "docs" / "api.md").read_text()
    paths = create_app().openapi()["paths"]
    assert len(paths) >= 13
    for path, methods in paths.items():
        shown = regex.sub(r"\{[a-z_]*id\}", "{id}", path)
        for method in methods:
            assert f"`{method.upper()} {shown}`" in doc, (
                f"docs/api.md does not list {method.upper()} {shown}"
            )


def test_embedding_doc_shows_the_script_the_site_offers() -> None:
    """The parent script in docs/embedding.md is the one the compare page hands out."""
    doc = (ROOT / "docs" / "embedding.md").read_text()
    assert embed_parent_script("https://kb.example.org") in doc
    assert "protocol-kb:height" in (ROOT / "api" / "static" / "embed.js").read_text()
