"""rdoflow's own exception tree, arranged by what the caller does next.

Every condition a user must act on carries a kebab-case ``reference`` (to grep
logs and docs for), the message, the evidence that shows it and a hint, in the
manner of pip's ``DiagnosticPipError``. SDK exceptions are never wrapped
without ``from exc``; retry decisions test these classes, never message text.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from pydantic import BaseModel, Field

from rdoflow.redaction import redact


def printable(text: str) -> str:
    """``text`` from outside (a file, a stream) safe to show on a terminal: every control character
    (ESC, a carriage return, DEL, C1 codes…) and other non-printable character as its ``\\x..`` escape."""
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)


class RdoflowError(Exception):
    """Root of rdoflow's own conditions."""

    reference = "rdoflow-error"

    def __init__(
        self,
        message: str,
        *,
        evidence: Sequence[str] = (),
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = list(evidence)
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        # Prefect pickles a failed task's exception into its state; rebuild from
        # the attributes, since the keyword-only constructor cannot take args.
        return (_rebuild, (type(self), self.__dict__))

    def render(self) -> str:
        """The whole diagnosis as plain text: reference, message, evidence, hint."""
        lines = [f"error[{self.reference}]: {self.message}"]
        lines += [f"  | {line}" for line in self.evidence]
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)


def _rebuild(kind: type[RdoflowError], attributes: dict) -> RdoflowError:
    error = kind.__new__(kind)
    Exception.__init__(error, attributes.get("message", ""))
    error.__dict__.update(attributes)
    return error


class ConfigError(RdoflowError):
    """Bad input: a file or parameter that is not what rdoflow expects.

    ``problems`` holds one line per fault, each naming the file, the field and
    what was expected, so that a user fixes them all in one pass.
    """

    reference = "bad-config"

    def __init__(self, source: str, problems: Sequence[str], *, hint: str | None = None,
                 evidence: Sequence[str] = ()):
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        summary = self.problems[0] if count == 1 else f"{source}: {count} problems"
        super().__init__(summary, evidence=[*(self.problems if count > 1 else ()), *evidence], hint=hint)


class TransientError(RdoflowError):
    """A failure that the same call may not meet again: retry with backoff."""

    reference = "transient"


class StageTimeout(RdoflowError):
    """A resource did not reach its target state within the budget given."""

    reference = "stage-timeout"


class ResourceFailed(RdoflowError):
    """A resource reached a failed state (node, stack, check): do not retry blindly."""

    reference = "resource-failed"


class RemoteCommandFailed(RdoflowError):
    """A remote command ran and exited with a status other than success."""

    reference = "remote-command-failed"


# The OpenStack clients' error classes and the attribute holding their HTTP status. A client that was
# never imported raised nothing, so its module is looked up, not imported (the CLI starts without them).
_HTTP_ERRORS = (("openstack.exceptions", "HttpException", "status_code"),
                ("keystoneauth1.exceptions", "HttpError", "http_status"),
                ("heatclient.exc", "HTTPException", "code"))


def http_status(exc: BaseException) -> int | None:
    """The HTTP status an OpenStack client's error carries (openstacksdk, keystoneauth, heatclient)."""
    for module, name, attribute in _HTTP_ERRORS:
        kind = getattr(sys.modules.get(module), name, None)
        if kind is not None and isinstance(exc, kind):
            return getattr(exc, attribute)
    return None


def unreachable(exc: BaseException) -> bool:
    """An OpenStack API that could not be reached at all (keystoneauth's connection failures)."""
    kind = getattr(sys.modules.get("keystoneauth1.exceptions"), "ConnectionError", None)
    return kind is not None and isinstance(exc, kind)


class ErrorRecord(BaseModel):
    """An error as a report shows it: reference, message, evidence, hint; secrets masked.

    ``ErrorRecord.of`` is the one adapter from an exception: rdoflow's own conditions keep their
    diagnosis, an OpenStack API's error shows its status, request and request id, anything else is
    "unexpected-error" (whose traceback is in the logs)."""

    reference: str
    message: str
    evidence: list[str] = Field(default_factory=list)
    hint: str | None = None

    @classmethod
    def of(cls, exc: BaseException, *, evidence_shown: int | None = None) -> ErrorRecord:
        if isinstance(exc, RdoflowError):
            reference, message, evidence, hint = exc.reference, exc.message, exc.evidence, exc.hint
        elif (status := http_status(exc)) is not None:  # an OpenStack API's answer, passed through unchanged
            reference, message, evidence = "openstack-api-error", f"{type(exc).__name__}: {exc}", _api_evidence(exc,
                                                                                                              status)
            hint = ("the service failed on its side and still did after the retries: its log has the request"
                    if status >= 500 else "the service refused the request: its log has the request and why"
                    ) + " (the flow run's logs hold the traceback)"
        else:
            reference, message, evidence = "unexpected-error", f"{type(exc).__name__}: {exc}", []
            hint = "this is not a condition rdoflow knows; the flow run's logs hold the traceback"
        return cls(reference=reference, message=redact(message), hint=redact(hint) if hint else None,
                   evidence=[redact(line) for line in evidence[:evidence_shown]])


def _api_evidence(exc: BaseException, status: int) -> list[str]:
    """What an OpenStack client's error tells of the request: its status, method and URL, request id."""
    url, request_id = getattr(exc, "url", None), getattr(exc, "request_id", None)
    return [f"HTTP {status}",
            *([f"{getattr(exc, 'method', None) or 'request'} {url}"] if url else []),
            *([f"request id {request_id}"] if request_id else [])]
