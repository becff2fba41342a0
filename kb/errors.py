"""The one exception family of protocol-kb; the CLI and the API map it to exit codes and HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the content, located as `path:line`."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def display_path(path: Path) -> str:
    """A path as a person would type it: relative to the working directory when under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


SHOWN_ERRORS = 5
"""Errors named in one answer; the rest are counted (a hostile request may hold thousands)."""


def summarised(errors: list[tuple[str, str]]) -> tuple[str, list[tuple[str, str]]]:
    """(a one-line detail, the errors shown) for (option at fault, what is wrong) pairs: the
    first SHOWN_ERRORS of them, and how many more there were."""
    shown = errors[:SHOWN_ERRORS]
    detail = "; ".join(what for _, what in shown)
    if len(errors) > len(shown):
        detail += f"; and {len(errors) - len(shown)} more ({len(errors)} in all)"
    return detail, shown


class KBError(Exception):
    """Base of every error protocol-kb reports to a person instead of a traceback.

    `message` is for the operator (the CLI prints it; it may name a masked database URL or a
    folder); `public` is what an anonymous HTTP client is told, in words, with no URL or path.
    """

    http_status = 400
    exit_code = 1
    title = "Bad request"
    kind = "bad-request"
    """The error's kind: the API's problem type is named after it (docs/api.md)."""

    def __init__(
        self,
        message: str,
        public: str | None = None,
        *,
        field: str | None = None,
        errors: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.public = public or message
        """What an HTTP client is told: `message` may name the operator's URL or path."""
        self.errors = list(errors or []) + ([(field, message)] if field else [])
        """(option at fault, what is wrong with it): an option is a parameter name (`keys`) or
        a JSON Pointer into the options given (`/choices/colour`)."""


class ValidationFailed(KBError):
    """The content has problems; nothing was built."""

    http_status = 422
    title = "Invalid content"
    kind = "invalid-content"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__(f"{len(self.problems)} problem(s) in the protocol files")


class InvalidParameter(KBError):
    """An option (a parameter of a query, a field of a request) whose value is not accepted:
    an unknown key or topic, a value outside its set. `field` names it."""

    http_status = 422
    title = "Invalid parameter"
    kind = "invalid-parameter"


class UnknownParameter(InvalidParameter):
    """A parameter nobody asked for: misspelt, or not one this operation takes."""

    title = "Unknown parameter"
    kind = "unknown-parameter"


class TooManyProtocols(InvalidParameter):
    """More protocols than one comparison or draft takes."""

    title = "Too many protocols"
    kind = "too-many-protocols"


class InvalidOptions(InvalidParameter):
    """Options that name something unknown or contradict each other; the message names them."""

    title = "Invalid options"
    kind = "invalid-options"


class NotFound(KBError):
    http_status = 404
    title = "Not found"
    kind = "not-found"


class QuerySyntaxError(KBError):
    """A search query that cannot be read; the message says what to change."""

    title = "Bad search query"
    kind = "unreadable-query"


class IndexUnavailable(KBError):
    """There is no search index yet (or it cannot be opened)."""

    http_status = 503
    exit_code = 2
    title = "Search index unavailable"
    kind = "no-search-index"


class DatabaseUnavailable(KBError):
    """The database named by the settings cannot be reached or is not built yet."""

    http_status = 503
    exit_code = 2
    title = "Database unavailable"
    kind = "database-unavailable"


class NoBuild(DatabaseUnavailable):
    """The database is there but holds no build yet: `kb build` is the remedy."""

    kind = "no-build"


class BuildFailed(KBError):
    """Writing the database failed after validation passed; the previous database is untouched."""

    exit_code = 2
    http_status = 500
    title = "Build failed"
    kind = "build-failed"
