"""`kb validate`: good content passes; each deliberately broken case prints exactly its problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from kbcli.commands import main
from tests.conftest import FIXTURES

CASES: list[dict[str, Any]] = yaml.safe_load((FIXTURES / "bad" / "cases.yaml").read_text())


def break_content(root: Path, case: dict[str, Any]) -> None:
    path = root / case["file"]
    text = path.read_text()
    for change in [case, *case.get("also", [])]:
        assert text.count(change["replace"]) == 1, (
            f"case {case['name']}: replacement must match once"
        )
        text = text.replace(change["replace"], change["with"])
    path.write_text(text)


def problem_lines(stderr: str, root: Path) -> list[str]:
    """Problem lines with the content folder made relative, without the closing summary line."""
    return [
        line.replace(f"{root}/", "") for line in stderr.splitlines() if not line.startswith("kb: ")
    ]


def test_good_content_validates_with_a_one_line_summary(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--protocols", str(content)]) == 0
    out = capsys.readouterr().out
    assert out == (
        "ok: 2 protocols, 4 provisions, 32 coded answers, 2 jurisdictions, 1 background records\n"
    )


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_broken_content_is_reported_as_path_line_message(
    case: dict[str, Any], content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    break_content(content, case)

    assert main(["validate", "--protocols", str(content)]) == 1

    err = capsys.readouterr().err
    lines = problem_lines(err, content)
    assert len(lines) == len(case["expect"]), err
    for line, expected in zip(lines, case["expect"], strict=True):
        assert line.startswith(expected), f"\n got: {line}\nwant: {expected}…"
    assert "Traceback" not in err
    assert err.rstrip().endswith("nothing was built")


def test_every_problem_is_found_in_one_run(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = [
        "bad-status",
        "unknown-topic",
        "bad-date",
        "protocol-without-source",
        "bad-jurisdiction-level",
    ]
    cases = [c for c in CASES if c["name"] in chosen]
    for case in cases:
        break_content(content, case)

    assert main(["validate", "--protocols", str(content)]) == 1

    lines = problem_lines(capsys.readouterr().err, content)
    expected = sorted(e for c in cases for e in c["expect"])
    assert len(lines) == len(expected)
    for line, want in zip(sorted(lines), expected, strict=True):
        assert line.startswith(want)


def test_a_file_that_is_not_utf8_is_a_problem_not_a_crash(
    content: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = content / "us-xx-example-county" / "ordinance-2012-9.md"
    path.write_bytes(path.read_bytes().replace(b"Notice", b"Not\xffice"))

    assert main(["validate", "--protocols", str(content)]) == 1

    lines = problem_lines(capsys.readouterr().err, content)
    assert any(
        line.startswith("us-xx-example-county/ordinance-2012-9.md:64: not UTF-8 text")
        for line in lines
    )


def test_missing_content_folder_files_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["validate", "--protocols", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    for name in ("codebook.yaml", "topics.yaml", "jurisdictions.yaml"):
        assert f"{tmp_path}/{name}:1: missing" in err
