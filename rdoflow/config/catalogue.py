"""The inspection catalogue: the suite's tests grouped into areas a customer reads, and named selections.

Shipped as data (``catalogue.yaml`` beside this module) and read once. A test's area is the first whose
expressions match the start of its id; ``other`` takes the rest. A selection is an include and an
exclude list that a site names in ``regression.selection`` (``RegressionSite.test_filters``).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from rdoflow.config.yamlsource import raise_problems, read_yaml, validation_problems

CATALOGUE_FILE = Path(__file__).with_name("catalogue.yaml")
OTHER = "other"
SECTION = ConfigDict(extra="forbid")


def _regex(text: str) -> str:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"expected a regular expression, got {text!r} ({exc})") from None
    return text


Regex = Annotated[str, AfterValidator(_regex)]


class Area(BaseModel):
    """Tests a customer reads as one thing: "identity works", "bare metal works"."""

    model_config = SECTION

    title: str = Field(..., min_length=1, description="What a report calls the area.")
    reads_as: str = Field(..., min_length=1, description="One line: what a customer reads its results as.")
    tests: list[Regex] = Field(default_factory=list, description="Expressions matched at the start of a test id.")
    selectable: bool = Field(True, description="Whether a selection may name it: false for the areas of rows "
                                               "that are not Tempest tests (Rally's, the upgrade checks').")


class Selection(BaseModel):
    """A named include/exclude list (stestr's rules: ``re.search`` over the listed id)."""

    model_config = SECTION

    description: str = Field(..., min_length=1)
    areas: list[str] = Field(default_factory=list, description="Areas whose expressions join the include list.")
    include: list[Regex] = Field(default_factory=list)
    exclude: list[Regex] = Field(default_factory=list)


class Catalogue(BaseModel):
    model_config = SECTION

    areas: dict[str, Area]
    selections: dict[str, Selection]

    @model_validator(mode="after")
    def _other_last_and_areas_known(self) -> Catalogue:
        names = list(self.areas)
        if not names or names[-1] != OTHER or self.areas[OTHER].tests:
            raise ValueError(f"the last area must be '{OTHER}', with no tests: it takes what no other area matches")
        for name, selection in self.selections.items():
            unknown = [area for area in selection.areas if area not in self.selectable()]
            if unknown:
                raise ValueError(f"selection '{name}' names {', '.join(unknown)}: expected areas among "
                                 f"{', '.join(self.selectable())}")
        return self

    def selectable(self) -> list[str]:
        """The areas a selection, or a site's ``regression.areas``, may name: Tempest's."""
        return [name for name, area in self.areas.items() if area.selectable and name != OTHER]

    def area_patterns(self) -> dict[str, re.Pattern]:
        """Each area but ``other`` as one compiled expression, anchored at the start of the id."""
        return {name: re.compile("|".join(f"(?:{p})" for p in area.tests))
                for name, area in self.areas.items() if area.tests}

    def area_of(self, test_id: str) -> str:
        return next((name for name, pattern in self.area_patterns().items() if pattern.match(test_id)), OTHER)

    def filters(self, selection: str | None, areas: list[str]) -> tuple[list[str], list[str]]:
        """The include and exclude lists of a selection (None: none) and of more areas, in stestr's form."""
        chosen = self.selections[selection] if selection else Selection(description="-")
        include = [*chosen.include]
        for area in [*chosen.areas, *areas]:
            include += [f"^(?:{pattern})" for pattern in self.areas[area].tests]
        return include, [*chosen.exclude]


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> Catalogue:
    """The catalogue in ``path`` (the shipped one by default), checked; a ConfigError names what is wrong."""
    document = read_yaml(path)
    try:
        return Catalogue.model_validate(document.data)
    except ValidationError as exc:
        raise_problems(str(path), document.problems + validation_problems(exc, document, Catalogue))
