"""rdoflow's own exception tree, arranged by what the caller does next.

Every condition a user must act on carries a kebab-case ``reference`` (to grep
logs and docs for), the message, the evidence that shows it and a hint, in the
manner of pip's ``DiagnosticPipError``. SDK exceptions are never wrapped
without ``from exc``; retry decisions test these classes, never message text.
"""

from __future__ import annotations

from collections.abc import Sequence


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

    def __init__(self, source: str, problems: Sequence[str], *, hint: str | None = None):
        self.source = source
        self.problems = list(problems)
        count = len(self.problems)
        summary = self.problems[0] if count == 1 else f"{source}: {count} problems"
        super().__init__(summary, evidence=self.problems if count > 1 else (), hint=hint)


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
