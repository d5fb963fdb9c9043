"""The last drop tested behind each promotion link, kept in the results store beside the runs.

Why the results store and not a Prefect Variable (as the watch's "last drop seen"): the comparison needs the
whole versions.csv of the last drop tested (RDO master: ~1,500 rows, ~0.5 MB), and a Variable holds at most
5,000 characters; DLRN purges old builds, so it cannot be read back from the server weeks later; and the
store is where a team already keeps its runs (a directory or object storage any worker reaches), so the
trend can read every drop's review from it too.

Layout, under the store's location::

    drops/link=<link>/last-tested.json                the baseline: the drop and the rows that were reviewed
    drops/link=<link>/drop=<hash>/drop-review.json    each drop's review (DropReview)
    drops/link=<link>/drop=<hash>/compared-with.json  the baseline it was compared with (null: the first drop)

The baseline is what was *reviewed*, not only what was seen: a package that could not be fetched keeps its
previous row (or none, when it was new), so that the next drop shows it as changed again and it is retried.
A drop reviewed again (a rerun of its nightly) is compared with what it was compared with the first time,
not with itself.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import fsspec
from pydantic import BaseModel, Field, ValidationError

from rdoflow.errors import ConfigError
from rdoflow.tasks.prerelease.model import DropReview, DropVersions

BASELINE_FILE = "last-tested.json"
REVIEW_FILE = "drop-review.json"
COMPARED_FILE = "compared-with.json"


class TestedDrop(BaseModel):
    """The last drop tested behind a link, with the package rows its review accepted as reviewed."""

    __test__ = False  # not a pytest class, whatever its name

    link: str
    drop: str
    base_url: str
    tested_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))
    versions: DropVersions


def link_key(link: str) -> str:
    """A link's directory name (``current-passed-ci``; a build path is flattened)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", link).strip("-.") or "link"


class TestedDrops:
    """The last drop tested per link, under a results store location (a directory or an fsspec URL)."""

    __test__ = False

    def __init__(self, location: str):
        self.location = str(location)
        self.fs, self.root = fsspec.core.url_to_fs(self.location)

    def _dir(self, link: str) -> str:
        return f"{self.root}/drops/link={link_key(link)}"

    def last(self, link: str) -> TestedDrop | None:
        """The last drop tested behind ``link``, or None before the first one."""
        return self._read(f"{self._dir(link)}/{BASELINE_FILE}")

    def baseline_for(self, link: str, drop: str) -> TestedDrop | None:
        """What ``drop`` is compared with: the last drop tested, or, when that is ``drop`` itself, what it was
        compared with then (None: it was the first)."""
        last = self.last(link)
        if last is None or last.drop != drop:
            return last
        return self._read(f"{self._dir(link)}/drop={link_key(drop)}/{COMPARED_FILE}")

    def _read(self, path: str) -> TestedDrop | None:
        if not self.fs.exists(path):
            return None
        with self.fs.open(path) as handle:
            text = handle.read()
        if text.strip() in (b"null", "null"):
            return None
        try:
            return TestedDrop.model_validate_json(text)
        except ValidationError as exc:
            shown = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            raise ConfigError(path, [f"{self.location}: {path}: not a drop baseline rdoflow wrote: {shown}"],
                              hint="remove the file: the next drop is then taken as a first drop") from None

    def remember(self, tested: TestedDrop, review: DropReview, compared_with: TestedDrop | None) -> str:
        """Keep ``review`` and the baseline it was compared with, then make ``tested`` the link's baseline;
        return the baseline's path. Each file is written to a temporary name, then moved: a reader never sees
        half a file."""
        directory = self._dir(tested.link)
        drop_dir = f"{directory}/drop={link_key(review.drop)}"
        self.fs.makedirs(drop_dir, exist_ok=True)
        self._write(f"{drop_dir}/{REVIEW_FILE}", review.model_dump_json(indent=1))
        self._write(f"{drop_dir}/{COMPARED_FILE}", compared_with.model_dump_json() if compared_with else "null")
        path = f"{directory}/{BASELINE_FILE}"
        self._write(path, tested.model_dump_json())
        return path

    def reviews(self, link: str) -> list[DropReview]:
        """Every drop review kept for ``link``, oldest build first."""
        found = []
        for path in self.fs.glob(f"{self._dir(link)}/drop=*/{REVIEW_FILE}"):
            with self.fs.open(path) as handle:
                found.append(DropReview.model_validate(json.load(handle)))
        return sorted(found, key=lambda review: (review.built or datetime.min.replace(tzinfo=timezone.utc),
                                                 review.drop))

    def _write(self, path: str, text: str) -> None:
        staging = f"{path}.tmp"
        with self.fs.open(staging, "w") as out:
            out.write(text)
        self.fs.mv(staging, path)
