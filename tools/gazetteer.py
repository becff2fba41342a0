"""Regenerates protocols/gazetteer/ (every US state, D.C. and county) from the us-atlas package.

Run from the repository root:  python tools/gazetteer.py  [--package path/to/us-atlas-3.0.1.tgz]

Without --package it runs `npm pack us-atlas@3.0.1` in a temporary folder (needs npm and the
network). The rules that turn us-atlas's bare county names ("Harris") into full names and ids
("Harris County", `us-tx-harris-county`) are written out below and in protocols/gazetteer/README.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

PACKAGE = "us-atlas@3.0.1"
OUT = Path(__file__).resolve().parent.parent / "protocols" / "gazetteer"

# State FIPS code -> USPS code, from the Census Bureau's FIPS county code list
# (https://www2.census.gov/geo/docs/reference/codes/files/national_county.txt, public domain),
# whose first two columns pair each state's postal code with its FIPS code. Territories
# (60, 66, 69, 72, 78) are left out: the gazetteer covers the 50 states and D.C.
POSTAL = {
    "01": "AL", "02": "AK", "04": "AZ", "05": "AR", "06": "CA", "08": "CO", "09": "CT",
    "10": "DE", "11": "DC", "12": "FL", "13": "GA", "15": "HI", "16": "ID", "17": "IL",
    "18": "IN", "19": "IA", "20": "KS", "21": "KY", "22": "LA", "23": "ME", "24": "MD",
    "25": "MA", "26": "MI", "27": "MN", "28": "MS", "29": "MO", "30": "MT", "31": "NE",
    "32": "NV", "33": "NH", "34": "NJ", "35": "NM", "36": "NY", "37": "NC", "38": "ND",
    "39": "OH", "40": "OK", "41": "OR", "42": "PA", "44": "RI", "45": "SC", "46": "SD",
    "47": "TN", "48": "TX", "49": "UT", "50": "VT", "51": "VA", "53": "WA", "54": "WV",
    "55": "WI", "56": "WY",
}  # fmt: skip

# Alaska's county-equivalents carry different type words that no rule can guess. From the same
# Census list (2010 codes); two entries changed after 2010 and are marked in README.md:
# 02158 Kusilvak (the 2015 renaming of 02270 Wade Hampton Census Area) and 02195 Petersburg
# (listed in 2010 as a Census Area; re-formed as a borough in 2013).
ALASKA = {
    "02013": "Borough", "02016": "Census Area", "02020": "Municipality",
    "02050": "Census Area", "02060": "Borough", "02068": "Borough", "02070": "Census Area",
    "02090": "Borough", "02100": "Borough", "02105": "Census Area", "02110": "City and Borough",
    "02122": "Borough", "02130": "Borough", "02150": "Borough", "02158": "Census Area",
    "02164": "Borough", "02170": "Borough", "02180": "Census Area", "02185": "Borough",
    "02188": "Borough", "02195": "Borough", "02198": "Census Area",
    "02220": "City and Borough", "02230": "Municipality", "02240": "Census Area",
    "02261": "Census Area", "02275": "City and Borough", "02282": "City and Borough",
    "02290": "Census Area",
}  # fmt: skip

# Independent cities outside Virginia (Virginia's are every county code of 500 or more).
INDEPENDENT_CITIES = {"24510", "29510", "32510"}  # Baltimore, St. Louis, Carson City

# Places whose id was published before the gazetteer existed: they keep it.
KEPT_IDS = {
    "06075": "us-ca-san-francisco",  # the City and County of San Francisco
    "42101": "us-pa-philadelphia",  # the City (and County) of Philadelphia
}
DC_FIPS = "11001"  # D.C. is the district itself (`us-dc`), not a county within it


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"['.]", "", plain.lower())
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def type_word(fips: str, name: str) -> str | None:
    """The word after the bare name ("County", "Parish", "city"); None when the name is whole."""
    state, county = fips[:2], int(fips[2:])
    if fips == "32510":  # "Carson City" already says it
        return None
    if state == "02":
        return ALASKA[fips]
    if state == "22":
        return "Parish"
    if (state == "51" and county >= 500) or fips in INDEPENDENT_CITIES:
        return "city"
    return "County"


def rows(atlas: dict[str, object]) -> list[dict[str, str]]:
    objects = atlas["objects"]  # type: ignore[index]
    states = {
        g["id"]: g["properties"]["name"]
        for g in objects["states"]["geometries"]  # type: ignore[index]
        if g["id"] in POSTAL
    }
    out: list[dict[str, str]] = []
    for fips, name in sorted(states.items()):
        postal = POSTAL[fips]
        level = "district" if postal == "DC" else "state"
        out.append(
            {"fips": fips, "id": f"us-{postal.lower()}", "name": name, "level": level,
             "state": postal, "parent": ""}
        )  # fmt: skip
    counties = objects["counties"]["geometries"]  # type: ignore[index]
    for g in sorted(counties, key=lambda g: g["id"]):
        fips, bare = g["id"], g["properties"]["name"]
        if fips[:2] not in POSTAL or fips == DC_FIPS:
            continue
        postal = POSTAL[fips[:2]]
        word = type_word(fips, bare)
        full = f"{bare} {word}" if word else bare
        jid = KEPT_IDS.get(fips, f"us-{postal.lower()}-{slug(full)}")
        out.append(
            {"fips": fips, "id": jid, "name": f"{full}, {states[fips[:2]]}", "level": "county",
             "state": postal, "parent": f"us-{postal.lower()}"}
        )  # fmt: skip
    ids = [r["id"] for r in out]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise SystemExit(f"two places derive the same id: {sorted(duplicates)}")
    return out


def fetch(package: Path | None, work: Path) -> Path:
    if package is None:
        subprocess.run(["npm", "pack", PACKAGE], cwd=work, check=True, capture_output=True)
        package = next(work.glob("us-atlas-*.tgz"))
    with tarfile.open(package) as tar:
        tar.extractall(work, filter="data")
    return work / "package"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", type=Path, help="a us-atlas .tgz already downloaded")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as temp:
        unpacked = fetch(args.package, Path(temp))
        atlas = json.loads((unpacked / "counties-10m.json").read_text())
        licence = (unpacked / "LICENSE").read_text()
    table = rows(atlas)
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "jurisdictions.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, ["fips", "id", "name", "level", "state", "parent"])
        writer.writeheader()
        writer.writerows(table)
    (OUT / "LICENSE-us-atlas").write_text(licence)
    print(f"wrote {len(table)} jurisdictions to {OUT / 'jurisdictions.csv'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
