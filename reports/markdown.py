"""Markdown building blocks every renderer shares: a table cell that stays one cell."""

from __future__ import annotations


def cell(text: object) -> str:
    """``text`` as one Markdown table cell: pipes escaped, lines joined; None is an empty cell."""
    return "" if text is None else str(text).replace("|", "\\|").replace("\n", " ")
