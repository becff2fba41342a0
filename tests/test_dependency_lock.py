"""requirements.lock stays true to pyproject.toml, pins the whole tree with hashes, and is what is
installed. Fast and offline: CI fails here when a dependency changed without `make lock`."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import PackageNotFoundError, distribution

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT
from tests.dependency_lock import PROJECT, Lock, canonical, pyproject_digest, read_lock

LOCK = ROOT / "requirements.lock"
PYPROJECT = ROOT / "pyproject.toml"
STALE = "requirements.lock is out of date with pyproject.toml: run `make lock`"


@pytest.fixture(scope="module")
def lock() -> Lock:
    return read_lock(LOCK.read_text())


def declared() -> list[Requirement]:
    """What pyproject.toml asks for: the project with every extra, and its build backend."""
    data = tomllib.loads(PYPROJECT.read_text())
    strings = list(data["project"]["dependencies"]) + list(data["build-system"]["requires"])
    for extra in data["project"]["optional-dependencies"].values():
        strings += extra
    return [Requirement(s) for s in strings if canonical(Requirement(s).name) != PROJECT]


def test_the_lock_was_made_from_this_pyproject(lock: Lock) -> None:
    assert lock.digest is not None, "requirements.lock records no digest: run `make lock`"
    assert lock.digest == pyproject_digest(PYPROJECT.read_text()), STALE


def test_the_digest_covers_the_dependency_tables_and_nothing_else() -> None:
    text = PYPROJECT.read_text()
    digest = pyproject_digest(text)
    assert pyproject_digest(text.replace("line-length = 100", "line-length = 99")) == digest
    assert pyproject_digest(text.replace('"numpy>=1.26"', '"numpy>=1.27"')) != digest
    assert pyproject_digest(text.replace('"pytest>=8"', '"pytest>=8", "tox"')) != digest
    assert pyproject_digest(text.replace('"setuptools>=68"', '"setuptools>=69"')) != digest


def test_every_pin_is_exact_and_hashed_and_nothing_points_at_a_place(lock: Lock) -> None:
    # No editable installs, URLs, paths, find-links or index options: pip reads only pins.
    assert lock.other_lines == []
    assert len(lock.pins) > 50
    for pin in lock.pins.values():
        assert pin.hashes, f"{pin.name} has no hash"
    text = LOCK.read_text()
    assert "://" not in text and "--find-links" not in text and "index-url" not in text
    assert not re.search(r"(^|\s)/\w", text, re.M), "a filesystem path in requirements.lock"


def test_every_declared_requirement_is_pinned_within_its_range(lock: Lock) -> None:
    for requirement in declared():
        if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
            continue
        pin = lock.pins.get(canonical(requirement.name))
        assert pin is not None, f"{requirement} is not in requirements.lock: {STALE}"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"requirements.lock pins {pin.name}=={pin.version}, outside {requirement}: {STALE}"
        )
    # The build backend and the installer are pinned too: `pip install --no-build-isolation -e .`
    # builds with the locked setuptools, and nothing is fetched without a hash.
    assert {"setuptools", "pip", "wheel"} <= set(lock.pins)


def test_the_lock_is_exactly_the_installed_dependency_tree(lock: Lock) -> None:
    """Walk the installed metadata from pyproject's requirements (markers for this Python): every
    package reached is locked at the installed version, and every locked package is reached."""
    reached: dict[str, set[str]] = {}
    queue = [(requirement, "") for requirement in declared()]
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonical(requirement.name)
        pin = lock.pins.get(name)
        assert pin is not None, f"{requirement.name} (needed) is not in requirements.lock: {STALE}"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{requirement} is not met by the locked {pin.version}: {STALE}"
        )
        extras = reached.setdefault(name, set())
        new = ({""} | set(requirement.extras)) - extras
        if not new:
            continue
        extras |= new
        try:
            installed = distribution(name)
        except PackageNotFoundError:
            pytest.fail(
                f"{name} is locked but not installed: reinstall with `make .venv/.installed`"
            )
        assert installed.version == pin.version, (
            f"{name} {installed.version} is installed, the lock says {pin.version}: reinstall"
        )
        for line in installed.requires or []:
            queue += [(Requirement(line), wanted) for wanted in new]
    assert sorted(set(lock.pins) - set(reached)) == [], f"locked but needed by nothing: {STALE}"
