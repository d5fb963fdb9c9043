"""The lab's YAML files (lab.yaml, clouds.yaml, skip lists) read under the alias budget rdoflow keeps.

The lab host's programs run in the lab venv, where rdoflow is not importable, so the rule of
rdoflow.config.yamlsource is restated here, on PyYAML alone: all the aliases of a document may
repeat at most one value per character of its text (1,000 in a shorter one). Without it, PyYAML
shares what an alias names, but pydantic validating the knobs, or printing its error, does not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import MappingNode, Node, SequenceNode

ALIAS_BUDGET_FLOOR = 1_000


def read(path: Path) -> Any:
    """The data of a YAML file, as ``yaml.safe_load`` gives it; a YAMLError names the file and line."""
    loader = _BoundedLoader(path.read_text())
    loader.name = str(path)  # PyYAML names text it was given "<unicode string>" in its messages
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader whose composer counts the values each alias repeats, and stops past the budget."""

    def __init__(self, text: str):
        super().__init__(text)
        self.budget = self._left = max(len(text), ALIAS_BUDGET_FLOOR)
        self._sizes: dict[int, int] = {}  # id of each node composed: its values, aliases counted in full

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if not self.check_event(yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self._sizes[id(node)] = 1 + sum(self._sizes[id(child)] for child in _children(node))
            return node
        mark = self.peek_event().start_mark
        node = super().compose_node(parent, index)
        if id(node) not in self._sizes:  # the anchored node is still open: the alias is inside it
            raise ComposerError(None, None, "found a recursive alias", mark)
        self._left -= self._sizes[id(node)]
        if self._left < 0:
            raise ComposerError(None, None, f"too many aliases: with this one they would repeat more than "
                                f"{self.budget} values", mark)
        return node


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return node.value
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []
