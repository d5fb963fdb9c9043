"""Markdown building blocks every renderer shares: a table cell that stays one cell, a code span that
stays one span, a fenced block that stays one block. Names, reasons and failure lines come from the
systems under test: none of them may add markup (a link, emphasis, raw HTML) to a report."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

# Backslash first, so that the escapes added after it are not escaped again.
# ``<`` alone opens raw HTML; ``>`` is left as it is, so that the summary a CI log prints raw still reads
# ">= 4096 CPUs" (a ``>`` inside a line starts no quote).
_ESCAPES = (("\\", "\\\\"), ("`", "\\`"), ("&", "&amp;"), ("<", "&lt;"), ("|", "\\|"))
_TICKS = re.compile(r"`+")


def cell(text: object) -> str:
    """``text`` as inert Markdown on one line (a table cell, a list item): backslashes, backticks, pipes
    and HTML's ``&`` and ``<`` escaped, lines joined; None is an empty cell."""
    if text is None:
        return ""
    text = str(text)
    for plain, escaped in _ESCAPES:
        text = text.replace(plain, escaped)
    return text.replace("\r", " ").replace("\n", " ")


def code(text: object) -> str:
    """``text`` as one inline code span, whatever it holds.

    A span opens and closes with more backticks than any run inside it (CommonMark), so a backtick in a
    name cannot end it. Inside a span ``&lt;`` would show as written, so text holding ``<`` is not put
    in one: it is written as ``<code>`` with its text escaped, and no raw HTML of the text remains.
    """
    text = "" if text is None else str(text).replace("\r", " ").replace("\n", " ")
    if "<" in text:
        return f"<code>{cell(text)}</code>"
    fence = "`" * (max((len(run) for run in _TICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text.replace('|', chr(92) + '|')}{pad}{fence}"


def fenced(lines: Iterable[str], info: str = "") -> list[str]:
    """``lines`` as a fenced code block, its fence longer than any run of backticks in them."""
    lines = list(lines)
    longest = max((len(run) for line in lines for run in _TICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}{info}", *lines, fence]



def link(text: object, url: str) -> str:
    """A Markdown link whose text stays inert and whose URL stays one destination: CommonMark's ``<…>`` form,
    with the characters that would end it (``<``, ``>``, white space) percent-encoded."""
    url = re.sub(r"[<>\s]", lambda match: quote(match.group()), url)
    label = cell(text).replace("[", "\\[").replace("]", "\\]")
    return f"[{label}](<{url}>)"
