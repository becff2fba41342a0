"""The complete example in docs/protocol-format.md parses exactly as the doc says."""

from __future__ import annotations

import re
from pathlib import Path

from kb.errors import Problem
from kb.loader import load_dataset
from tests.conftest import ROOT, copy_content

DOC = ROOT / "docs" / "protocol-format.md"


def doc_example() -> str:
    match = re.search(
        r"<!-- example:start -->\n```markdown\n(.*?)```\n<!-- example:end -->",
        DOC.read_text(),
        re.S,
    )
    assert match, "docs/protocol-format.md lost its example block"
    return match.group(1)


def test_the_documented_example_is_valid_and_complete(tmp_path: Path) -> None:
    root = copy_content(tmp_path / "protocols")
    place = root / "us-xx-example-county" / "ordinance-2024-1.md"
    place.write_text(doc_example())

    dataset, problems = load_dataset(root)

    assert problems == []
    protocol = next(p for p in dataset.protocols if p.id == "us-xx-example-county/ordinance-2024-1")
    assert protocol.status == "in_force"
    assert protocol.dates == {
        "introduced": "2024-01-09",
        "passed": "2024-02-13",
        "effective": "2024-03",
    }
    assert protocol.year == 2024
    assert [s.id for s in protocol.sources] == ["enrolled", "gazette"]
    assert [p.anchor for p in protocol.provisions] == ["sec-a", "sec-b", "sec-c"]
    first = protocol.provisions[0]
    assert first.cite == "Sec. 12-4(a)"
    assert first.topics == ["detainers", "reimbursement", "hold-duration"]
    assert first.key_terms[0].text == "all costs incurred by the County"
    assert protocol.provisions[1].context == ["detainer-regulation"]
    assert protocol.provisions[2].confidence == "unverified"
    assert len(protocol.coding) == len(dataset.codebook.keys)
    assert protocol.coding["max_hold_hours"].value == 24
    assert protocol.coding["detainee_notice"].confidence == "unverified"


def test_the_documented_error_format_is_what_validate_prints(tmp_path: Path) -> None:
    root = copy_content(tmp_path / "protocols")
    place = root / "us-xx-example-county" / "ordinance-2024-1.md"
    place.write_text(doc_example().replace("{value: conditional", "{value: decline_all"))

    _, problems = load_dataset(root)

    assert len(problems) == 1
    line = (
        doc_example()
        .splitlines()
        .index(next(x for x in doc_example().splitlines() if x.startswith("  detainer_response:")))
        + 1
    )
    assert problems[0] == Problem(
        str(place),
        line,
        "coding.detainer_response.value: value 'decline_all' is not allowed; allowed: "
        "declines_all, judicial_warrant_only, conditional, honors_all, not_addressed",
    )
    # The doc's "Errors you may see" shows this very message.
    assert problems[0].message in DOC.read_text()
