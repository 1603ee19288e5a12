"""Typed errors of the core.

Every failure a user can cause is one of these, so the CLI maps it to an exit code and the web
layer to an HTTP status in exactly one place each (``cli.py``, ``web/errors.py``).
"""

from __future__ import annotations


class LeapsError(Exception):
    """Root of every error leapsld raises on purpose.

    Args:
        message: a plain sentence naming the problem and where it is.
    """

    http_status = 500
    exit_code = 2
    title = "Internal error"
    #: Seconds after which trying again may succeed (``Retry-After``), for a passing condition.
    retry_after: int | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        """The error as the one JSON shape the web layer and ``--format json`` use."""
        return {"error": self.title, "status": self.http_status, "message": self.message}


class LoadError(LeapsError):
    """A file could not be read or parsed; carries file, line and column when known.

    >>> str(LoadError("bad", path="data/x.ttl", line=3, column=7))
    'data/x.ttl:3:7: bad'
    """

    http_status = 400
    title = "Unusable input"

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path, self.line, self.column = path, line, column
        where = ":".join(str(x) for x in (path, line, column) if x is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.detail = message

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.update(file=self.path, line=self.line, column=self.column)
        return out


class ShapesViolation(LeapsError):
    """The data does not conform to the shapes; carries the report."""

    http_status = 500
    exit_code = 1
    title = "Data does not conform"

    def __init__(self, message: str, *, report: object) -> None:
        super().__init__(message)
        self.report = report


class QueryError(LeapsError):
    """A SPARQL query is malformed; carries line and column from the parser."""

    http_status = 400
    title = "Malformed query"

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line, self.column = line, column

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out.update(line=self.line, column=self.column)
        return out


class EvaluationError(LeapsError):
    """Well-formed input the engines cannot evaluate: a custom function the SPARQL engine does
    not know, a SPARQL constraint a SHACL engine refuses. Never "the data does not conform"."""

    http_status = 422
    title = "Cannot be evaluated"


class QueryRefused(LeapsError):
    """A well-formed request the endpoint will not run: updates, SERVICE, LOAD."""

    http_status = 403
    title = "Query refused"


class QueryTimeout(LeapsError):
    """A query ran longer than the configured limit (it was stopped)."""

    http_status = 503
    title = "Query timed out"
    retry_after = 5


class QueryOverBudget(LeapsError):
    """A query needed more than its budget (``memory``, or ``answer`` bytes) and was stopped."""

    http_status = 503
    title = "Query over its budget"

    def __init__(self, message: str, *, budget: str) -> None:
        super().__init__(message)
        self.budget = budget

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["budget"] = self.budget
        return out


class Busy(LeapsError):
    """Every query slot is taken; try again shortly."""

    http_status = 503
    title = "Busy"
    retry_after = 1


class TooManyQueries(LeapsError):
    """One client already runs as many queries as it may at once."""

    http_status = 429
    title = "Too many queries"
    retry_after = 1


class NotFound(LeapsError):
    """No such resource or document."""

    http_status = 404
    exit_code = 2
    title = "Not found"


class Gone(LeapsError):
    """An earlier release published this IRI; this one retired it, with no successor."""

    http_status = 410
    exit_code = 2
    title = "Gone"


class NotAcceptable(LeapsError):
    """Nothing the client accepts is offered; the message names what is."""

    http_status = 406
    title = "Not acceptable"

    def __init__(self, message: str, *, offered: list[str]) -> None:
        super().__init__(message)
        self.offered = offered

    def to_dict(self) -> dict[str, object]:
        out = super().to_dict()
        out["offered"] = self.offered
        return out


class UnsupportedFormat(LeapsError):
    """A format name, suffix or media type that the registry does not know."""

    http_status = 400
    title = "Unsupported format"


class BadRequest(LeapsError):
    """A request that cannot be understood: a malformed header, a missing parameter."""

    http_status = 400
    title = "Bad request"


class PayloadTooLarge(LeapsError):
    """A request body or query text larger than the configured limit."""

    http_status = 413
    title = "Payload too large"


class CannotListen(LeapsError):
    """The server cannot have its address and port: in use, forbidden or not on this machine."""

    title = "Cannot listen"


class StorageError(LeapsError):
    """The store folder cannot be written or read back: a full disk, a read-only file
    system, a damaged store that cannot be rebuilt. Exit 2 (1 means "does not conform")."""

    http_status = 503
    title = "Storage failure"


class EngineUnavailable(LeapsError):
    """The SPARQL engine leapsld serves from cannot be reached, refused leapsld, or failed
    (``--store sparql+http…``): a bad gateway, not the client's fault."""

    http_status = 502
    title = "SPARQL engine unavailable"
    retry_after = 5


class EngineTimeout(LeapsError):
    """The SPARQL engine leapsld serves from did not answer within the timeout (leapsld stopped
    waiting and freed the query's slot; what the engine does with it is the engine's concern)."""

    http_status = 504
    title = "SPARQL engine timed out"
    retry_after = 5
