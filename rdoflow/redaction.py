"""The one place secrets are masked: in text that leaves rdoflow (logs, artifacts, reports, summaries).

Two kinds of secret are known: the values rdoflow itself holds (a key, a password given to a command),
masked wherever they appear, and credentials a tool printed in its own output (Tempest's request bodies
carry the passwords of the users it creates; consoles echo OS_PASSWORD), masked by their ``name: value``
shape. Data is redacted when it is recorded, before any renderer sees it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "**********"
# ``name: value`` on one line: the separator's spaces never span a line break, or the next line's first word
# (a script's "feature not enabled" after its "issue_token:") would be taken for the value.
SECRET_ASSIGNMENT = re.compile(r"""(?i)((?:os_)?password|passwd|secret|token)(['"]?[ \t]*[:=][ \t]*['"]?)[^\s'",}]+""")


MASKED_ASSIGNMENT = rf"\1\2{REDACTED}"  # SECRET_ASSIGNMENT's replacement, for re.sub and pandas' str.replace alike


def redact(text: str) -> str:
    """``text`` with every ``password: value``-shaped credential masked."""
    return SECRET_ASSIGNMENT.sub(MASKED_ASSIGNMENT, text)


class Redactor:
    """Masks known secret values (a multi-line secret, a key, line by line) and, as ``redact`` does, the
    credentials a tool prints of its own (a command's output over SSH: the undercloud's install echoing the
    passwords it generated)."""

    def __init__(self, secrets: Iterable[str]):
        parts = {part.strip() for secret in secrets for part in secret.splitlines()}
        self.parts = sorted((p for p in parts if len(p) >= 4), key=len, reverse=True)

    def __call__(self, text: str) -> str:
        """``text`` with the known secrets masked, and any ``password: value`` a tool printed as well."""
        for part in self.parts:
            text = text.replace(part, REDACTED)
        return redact(text)
