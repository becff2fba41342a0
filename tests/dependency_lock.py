"""requirements.lock: what it records about pyproject.toml, and how `make lock` finishes it.

pip-compile writes the lock; `python -m tests.dependency_lock finish requirements.lock` then drops
the line it writes for the project itself (the dev extra names `protocol-kb[test]`, which
pip-compile emits as a `file://` URL of the checkout) and records a digest of pyproject.toml's
dependency tables, which tests/test_dependency_lock.py compares offline."""

from __future__ import annotations

import hashlib
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = "protocol-kb"
DIGEST_PREFIX = "# pyproject.toml dependency tables: sha256:"
REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)")
HASH_WARNING = "# WARNING: pip install will require the following package to be hashed"
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def dependency_tables(pyproject_text: str) -> dict[str, object]:
    """Everything in pyproject.toml that decides what the lock must hold, and nothing else."""
    data = tomllib.loads(pyproject_text)
    project = data["project"]
    return {
        "build-system.requires": data["build-system"]["requires"],
        "project.requires-python": project.get("requires-python"),
        "project.dependencies": project.get("dependencies", []),
        "project.optional-dependencies": project.get("optional-dependencies", {}),
    }


def pyproject_digest(pyproject_text: str) -> str:
    canonical = json.dumps(dependency_tables(pyproject_text), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class Pin:
    name: str
    version: str
    hashes: list[str] = field(default_factory=list)


@dataclass
class Lock:
    digest: str | None
    pins: dict[str, Pin]
    other_lines: list[str]  # anything that is neither a pin, a hash nor a comment


def read_lock(text: str) -> Lock:
    digest = None
    pins: dict[str, Pin] = {}
    other: list[str] = []
    current: Pin | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if line.startswith(DIGEST_PREFIX):
            digest = line.removeprefix(DIGEST_PREFIX).strip()
        elif not stripped or stripped.startswith("#"):
            continue
        elif match := REQUIREMENT.match(line):
            current = Pin(match["name"], match["version"], HASH.findall(line))
            pins[canonical(current.name)] = current
        elif line.startswith(" ") and current is not None and HASH.search(stripped):
            current.hashes.extend(HASH.findall(stripped))
        else:
            other.append(line)
    return Lock(digest, pins, other)


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def finish(lock_path: Path, pyproject_path: Path) -> None:
    """Drop the project's own `file://` entry and record the digest of pyproject.toml."""
    lines = lock_path.read_text().splitlines()
    kept: list[str] = []
    dropping = False
    for line in lines:
        if line.startswith(DIGEST_PREFIX):
            continue
        # pip-compile's warning about the project's own entry, the entry, and its comments.
        if line.startswith((HASH_WARNING, f"{PROJECT} @ ")):
            dropping = True
            continue
        if dropping and line.startswith(("# Consider using a hashable URL", " ")):
            continue
        dropping = False
        kept.append(line)
    header_end = next(i for i, line in enumerate(kept) if not line.startswith("#"))
    digest = pyproject_digest(pyproject_path.read_text())
    kept[header_end:header_end] = [DIGEST_PREFIX + digest, "#"]
    lock_path.write_text("\n".join(kept) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "finish":
        sys.exit("usage: python -m tests.dependency_lock finish requirements.lock")
    lock = Path(sys.argv[2])
    finish(lock, lock.parent / "pyproject.toml")
