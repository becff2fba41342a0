"""The whoosh distribution we depend on imports and compiles without warnings."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import importlib.util, pathlib, warnings
warnings.simplefilter("error")
import whoosh, whoosh.index, whoosh.qparser, whoosh.highlight, whoosh.sorting, whoosh.analysis
root = pathlib.Path(importlib.util.find_spec("whoosh").origin).parent
for path in sorted(root.rglob("*.py")):
    compile(path.read_text(encoding="utf-8"), str(path), "exec")  # SyntaxWarning -> error
print(len(list(root.rglob("*.py"))))
"""


def test_whoosh_imports_and_compiles_without_warnings() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 50


def test_the_whoosh_import_name_comes_from_whoosh3_alone() -> None:
    from importlib.metadata import packages_distributions

    assert packages_distributions()["whoosh"] == ["whoosh3"]
