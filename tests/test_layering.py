"""The layering rule holds: import-linter checks the contracts in pyproject.toml, here and in CI.

`kb` (the domain) imports neither `api` nor `search_index`, `search_index` never imports `api`,
and only `search_index` imports whoosh (docs/architecture.md). A second test breaks each rule in
a copy of the code, so a contract that silently checked nothing would fail too."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT

LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ["kb", "kbcli", "api", "search_index"]


def lint_imports(code: Path) -> subprocess.CompletedProcess[str]:
    """The contracts of this checkout's pyproject.toml, checked against the packages under `code`."""
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--no-logo", str(ROOT / "pyproject.toml")],
        cwd=code,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(code)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_code_keeps_every_layering_contract() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert sorted(config["root_packages"]) == sorted(PACKAGES)
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(config['contracts'])} kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contracts"),
    [
        # The domain reaching up also reaches, through the upper layer, what it must never import.
        ("kb/store.py", "import api.app", ["Layers", "The domain imports no web framework"]),
        (
            "kb/store.py",
            "from search_index import search",
            ["Layers", "The domain imports no web framework"],
        ),
        ("search_index/query.py", "from api import errors", ["Layers"]),
        ("search_index/query.py", "import kbcli.commands", ["Layers"]),
        ("api/caching.py", "import kbcli.commands", ["Layers"]),
        ("kb/compare.py", "import fastapi", ["The domain imports no web framework"]),
        ("api/routes/v1.py", "from whoosh import index", ["Only search_index imports whoosh"]),
    ],
)
def test_an_import_across_the_rule_is_caught(
    tmp_path: Path, module: str, line: str, contracts: list[str]
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    path = tmp_path / module
    # Inside a function, as the CLI once imported the search index: still an import.
    path.write_text(path.read_text() + f"\n\ndef _crossing() -> None:\n    {line}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    broken = [row for row in result.stdout.splitlines() if row.endswith(" BROKEN")]
    assert len(broken) == len(contracts), result.stdout
    assert all(row.startswith(name) for row, name in zip(broken, contracts, strict=True))
    assert module.removesuffix(".py").replace("/", ".") in result.stdout
