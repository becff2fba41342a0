"""A synthetic content folder of N jurisdictions x 15 provisions (fixed seed), for benchmarks.

Shared by bench/build.py and the search benchmark, so both measure the same corpus. The
records are obviously fake (jurisdiction ids `us-zz-bench-NNNNN`) and never enter protocols/.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PROVISIONS_PER_PROTOCOL = 15

WORDS = [
    "detainer",
    "hold",
    "request",
    "sheriff",
    "jail",
    "county",
    "custody",
    "release",
    "warrant",
    "judicial",
    "federal",
    "immigration",
    "enforcement",
    "agency",
    "officer",
    "notice",
    "interview",
    "access",
    "reimbursement",
    "cost",
    "conviction",
    "felony",
    "violent",
    "serious",
    "charge",
    "probable",
    "cause",
    "hours",
    "weekend",
    "holiday",
    "juvenile",
    "minor",
    "victim",
    "witness",
    "report",
    "board",
    "ordinance",
    "section",
    "policy",
    "resource",
    "personnel",
    "facility",
    "information",
    "status",
    "inquiry",
    "database",
    "fingerprint",
    "program",
    "agreement",
    "transfer",
    "court",
    "order",
    "department",
    "correction",
    "probation",
    "booking",
    "arrest",
    "community",
    "trust",
    "safety",
    "public",
    "record",
]
PHRASES = ["287(g)", "§ 7282.5", "48-hour", "I-247", "8 CFR 287.7", "Secure Communities"]


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 16))]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(PHRASES))
    return " ".join(words).capitalize() + "."


def generate(target: Path, jurisdictions: int, seed: int = 2011) -> Path:
    """Write the corpus into `target` (replaced if present) and return it."""
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in ("codebook.yaml", "topics.yaml"):
        shutil.copy(ROOT / "protocols" / name, target / name)
    codebook = yaml.safe_load((ROOT / "protocols" / "codebook.yaml").read_text())["keys"]
    topics = [
        t["id"] for t in yaml.safe_load((ROOT / "protocols" / "topics.yaml").read_text())["topics"]
    ]
    rows = []
    for n in range(jurisdictions):
        jid = f"us-zz-bench-{n:05d}"
        rows.append({"id": jid, "name": f"Bench County {n}", "level": "county", "state": "ZZ"})
        folder = target / jid
        folder.mkdir()
        year = rng.randint(2008, 2020)
        anchors = [f"sec-{i + 1}" for i in range(PROVISIONS_PER_PROTOCOL)]
        coding = {}
        for spec in codebook:
            if spec["type"] in ("choice", "boolean"):
                value = rng.choice(spec["values"])
            elif spec["type"] == "integer":
                value = rng.choice([None, 0, 24, 48, 5, 10])
            else:
                value = "County Sheriff"
            unaddressed = value is None or value == "not_addressed"
            coding[spec["key"]] = {
                "value": value,
                **({} if unaddressed else {"provisions": [rng.choice(anchors)]}),
            }
        front = {
            "id": f"{jid}/ordinance-{year}-{n}",
            "jurisdiction": jid,
            "title": f"Detainer Policy {n}",
            "short_name": f"Detainer policy ({n})",
            "citation": f"Bench County Ordinance {year}-{n}",
            "kind": "ordinance",
            "status": "in_force",
            "dates": {"passed": f"{year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"},
            "sources": [
                {
                    "id": "text",
                    "url": f"https://example.org/{n}",
                    "title": "Text",
                    "kind": "official",
                    "accessed": "2026-11-23",
                }
            ],
            "coding": coding,
            "verified": {"on": "2026-11-23", "confidence": "unverified"},
        }
        body = [" ".join(_sentence(rng) for _ in range(2)), ""]
        for i, anchor in enumerate(anchors):
            chosen = " ".join(rng.sample(topics, 2))
            body += [
                f'## {_sentence(rng)[:-1]} {{#{anchor} cite="Sec. {i + 1}" topics="{chosen}"}}',
                "",
                " ".join(_sentence(rng) for _ in range(rng.randint(2, 5))),
                "",
            ]
        (folder / f"ordinance-{year}-{n}.md").write_text(
            "---\n"
            + yaml.safe_dump(front, sort_keys=False, allow_unicode=True)
            + "---\n\n"
            + "\n".join(body)
        )
    (target / "jurisdictions.yaml").write_text(
        yaml.safe_dump({"jurisdictions": rows}, sort_keys=False)
    )
    return target
