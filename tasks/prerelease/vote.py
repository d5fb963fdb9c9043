"""Voting a drop's result back to DLRN, as RDO's CI does, and reading the vote back.

The calls are DLRN's API as ``dlrnapi report-result`` and ``repo-status`` / ``agg-status`` make them
(dlrnapi-client 0.13.1): ``POST /api/report_result`` with HTTP basic auth, the job id, the build's hashes
(commit, distro and extended hash; or an aggregate hash), the report's URL, a timestamp and ``success`` as the
string "true" or "false" (a JSON boolean makes DLRN answer 500); ``GET /api/repo_status`` or
``/api/agg_status`` lists a build's votes without an account. They are made with httpx rather than
dlrnapi-client: its credentials, TLS settings and log handlers live in one process-wide ``Configuration``
(two tasks voting as different users would race), it has no timeout unless every call passes one, and it
reads an answer whole; here each call has its own client, a deadline and a bounded read.

How DLRN refuses (docs/prerelease.md): 401 for a refused login; 400 with its message for a hash it does not
know (``commit_hash+distro_hash+extended_hash combination not found``, ``aggregate_hash not found``); no answer
at all when it is down. Each is an error of its own below; only the last is retried.
"""

from __future__ import annotations

import json
import time

import httpx
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from rdoflow.blocks.dlrn import DlrnApiCredentials
from rdoflow.config.site import DropVote
from rdoflow.errors import ConfigError, RdoflowError, TransientError, printable
from rdoflow.tasks.prerelease.dlrn import Drop
from rdoflow.tasks.retries import TRANSIENT_RETRIES

MAX_ANSWER = 1 << 20  # a build's votes; 1 MiB holds thousands of them


class VoteLoginRefused(RdoflowError):
    """DLRN refused the account (HTTP 401): a wrong password, an unknown user, or none given."""

    reference = "dlrn-login-refused"


class UnknownBuild(RdoflowError):
    """DLRN does not know the hashes voted on (HTTP 400 with its message): no such build, or a failed one."""

    reference = "dlrn-unknown-hash"


class DlrnApiUnavailable(TransientError):
    """DLRN's API did not answer (refused connection, timeout) or its proxy said it is away (502, 503, 504)."""

    reference = "dlrn-api-unavailable"


class DlrnApiError(RdoflowError):
    """Any other answer DLRN gave: an error of its own (500), or one this client did not expect."""

    reference = "dlrn-api-error"


class VoteTarget(BaseModel):
    """What a vote is on: a build (commit and distro hash, and its extended hash when it has one), or an
    aggregate (a component promotion's ``delorean.repo.md5``). DLRN takes one or the other."""

    model_config = ConfigDict(frozen=True)

    commit_hash: str | None = None
    distro_hash: str | None = None
    extended_hash: str | None = None
    aggregate_hash: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> VoteTarget:
        build = self.commit_hash is not None or self.distro_hash is not None or self.extended_hash is not None
        if self.aggregate_hash is not None and build:
            raise ValueError("a vote is on an aggregate hash or on a build's hashes, not both")
        if self.aggregate_hash is None and not (self.commit_hash and self.distro_hash):
            raise ValueError("a vote on a build needs its commit_hash and distro_hash (or give an aggregate_hash)")
        return self

    @classmethod
    def for_drop(cls, drop: Drop) -> VoteTarget:
        """The drop's build (the commit its link points at), as RDO's CI votes on it."""
        build = drop.components[0]
        return cls(commit_hash=build.commit_hash, distro_hash=build.distro_hash, extended_hash=build.extended_hash)

    @property
    def label(self) -> str:
        if self.aggregate_hash:
            return f"aggregate {self.aggregate_hash}"
        return "build " + "_".join(h for h in (self.commit_hash, self.distro_hash, self.extended_hash) if h)

    def query(self) -> dict[str, str]:
        """The target as DLRN's query parameters and body fields name it."""
        if self.aggregate_hash:
            return {"aggregate_hash": self.aggregate_hash}
        fields = {"commit_hash": self.commit_hash, "distro_hash": self.distro_hash}
        return fields | ({"extended_hash": self.extended_hash} if self.extended_hash else {})


class Vote(BaseModel):
    """A vote as DLRN records it (what ``repo-status`` / ``agg-status`` list)."""

    job_id: str
    success: bool
    url: str = Field(description="The report's URL (DLRN's info_url).")
    timestamp: int
    notes: str | None = None
    user: str | None = None
    in_progress: bool = False
    component: str | None = None
    commit_hash: str | None = None
    distro_hash: str | None = None
    extended_hash: str | None = None
    aggregate_hash: str | None = None


_VOTES = TypeAdapter(list[Vote])


def read_votes(api: DlrnApiCredentials, target: VoteTarget) -> list[Vote]:
    """Every vote DLRN has on ``target`` (no account needed); UnknownBuild when it has no such build."""
    path = "/api/agg_status" if target.aggregate_hash else "/api/repo_status"
    with _client(api, auth=False) as client:
        body = _call(client, api, "GET", path, target, params=target.query())
    try:
        return _VOTES.validate_json(body)
    except ValidationError as exc:
        raise DlrnApiError(f"DLRN's API at {api.url} answered {path} with something other than a list of votes",
                           evidence=[printable(line) for line in str(exc).splitlines()[:6]]) from None


def report_result(api: DlrnApiCredentials, target: VoteTarget, *, job_id: str, success: bool, info_url: str,
                  notes: str = "", timestamp: int | None = None) -> Vote:
    """Vote ``success`` for ``job_id`` on ``target`` with the report at ``info_url``, then read it back.

    A vote already there from the same job with the same report URL (a retry after an answer that was lost)
    is returned, not made twice. VoteLoginRefused, UnknownBuild, DlrnApiUnavailable or DlrnApiError otherwise.
    """
    problems = [f"{name}: expected a non-empty string" for name, value in (("job_id", job_id), ("info_url", info_url))
                if not value or not value.strip()]
    if problems:
        raise ConfigError("report_result", problems)
    earlier = _find(read_votes(api, target), job_id, info_url)
    if earlier is not None:
        return earlier
    body = {**target.query(), "job_id": job_id, "url": info_url, "success": "true" if success else "false",
            "timestamp": int(time.time()) if timestamp is None else timestamp, "notes": notes}
    with _client(api, auth=True) as client:
        _call(client, api, "POST", "/api/report_result", target, json=body)
    vote = _find(read_votes(api, target), job_id, info_url)
    if vote is None:
        raise DlrnApiError(f"DLRN's API at {api.url} accepted the vote of {job_id} on {target.label}, but "
                           "does not list it when asked", hint="DLRN's log has the request")
    return vote


def _find(votes: list[Vote], job_id: str, info_url: str) -> Vote | None:
    mine = [vote for vote in votes if vote.job_id == job_id and vote.url == info_url]
    return max(mine, key=lambda vote: vote.timestamp) if mine else None


def _client(api: DlrnApiCredentials, *, auth: bool) -> httpx.Client:
    credentials = (api.username, api.password.get_secret_value()) if auth else None
    return httpx.Client(base_url=api.url, auth=credentials, timeout=api.timeout, verify=api.verify,
                        headers={"Accept": "application/json"})


def _call(client: httpx.Client, api: DlrnApiCredentials, method: str, path: str, target: VoteTarget,
          **request) -> bytes:
    """The answer's body (at most MAX_ANSWER bytes) when DLRN says yes; otherwise the error that says why."""
    url = f"{api.url}{path}"
    try:
        with client.stream(method, path, **request) as answer:
            body = _bounded(answer, url)
    except httpx.TimeoutException as exc:
        raise DlrnApiUnavailable(f"DLRN's API at {url} did not answer within {api.timeout:g} s",
                                 hint="it may be overloaded; the task tries again") from exc
    except httpx.TransportError as exc:
        raise DlrnApiUnavailable(f"DLRN's API at {url} could not be reached: {type(exc).__name__}: {exc}",
                                 hint="check that the server runs and the block's URL") from exc
    if answer.status_code in (200, 201):
        return body
    message = _message(body)
    evidence = [f"HTTP {answer.status_code} {answer.reason_phrase}: {printable(message)}"]
    if answer.status_code == 401:
        raise VoteLoginRefused(f"DLRN's API at {api.url} refused the login of user {api.username!r} (HTTP 401)",
                               evidence=evidence, hint="check the password in the DLRN API credentials block; "
                               "the account is made on the server with 'dlrn-user create'")
    if answer.status_code == 400 and message.endswith("not found"):
        raise UnknownBuild(f"DLRN at {api.url} has no {target.label}: {printable(message)}", evidence=evidence,
                           hint="DLRN accepts votes only on a build it made successfully: check the drop's hashes")
    if answer.status_code in (502, 503, 504):
        raise DlrnApiUnavailable(f"DLRN's API at {url} is unavailable (HTTP {answer.status_code})", evidence=evidence)
    raise DlrnApiError(f"DLRN's API at {url} answered HTTP {answer.status_code}: {printable(message)[:200]}",
                       evidence=evidence, hint="DLRN's log has the request and why")


def _bounded(answer: httpx.Response, url: str) -> bytes:
    body = bytearray()
    for chunk in answer.iter_bytes():
        body += chunk
        if len(body) > MAX_ANSWER:
            raise DlrnApiError(f"DLRN's API at {url} answered more than {MAX_ANSWER} bytes; not read further")
    return bytes(body)


def _message(body: bytes) -> str:
    """DLRN's own message (``{"message": ...}``), or the start of whatever else it answered."""
    try:
        document = json.loads(body)
    except ValueError:
        return body[:200].decode(errors="replace").strip()
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return document["message"]
    return body[:200].decode(errors="replace").strip()


@task(name="vote-on-drop", task_run_name="vote {job_id} on {target.label}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def vote_on_drop(api: DlrnApiCredentials, target: VoteTarget, job_id: str, success: bool, info_url: str,
                 notes: str = "") -> Vote:
    """``report_result`` as a task: an unanswering API is retried with backoff (a vote that landed is not made
    twice); a refused login, an unknown hash or another refusal is not."""
    from prefect.logging import get_run_logger

    vote = report_result(api, target, job_id=job_id, success=success, info_url=info_url, notes=notes)
    get_run_logger().info("voted %s for %s on %s as %s (%s); DLRN lists it at %s", "success" if vote.success
                          else "failure", job_id, target.label, vote.user, vote.url, vote.timestamp)
    return vote


@task(name="vote-for-drop", task_run_name="vote {options.job_id} on {drop}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def vote_for_drop(options: DropVote, base_url: str, drop: str, *, success: bool, info_url: str,
                  notes: str = "") -> Vote:
    """A pipeline's vote on the drop it tested (``drop``: its full hash, or a link): the drop's build read from
    DLRN (its full commit and distro hashes), the account from the site's saved block, then ``report_result``."""
    from prefect.logging import get_run_logger

    from rdoflow.tasks.prerelease.apply import locate_drop
    from rdoflow.tasks.prerelease.dlrn import read_drop

    api = DlrnApiCredentials.load(options.block)
    target = VoteTarget.for_drop(read_drop(base_url, locate_drop(base_url, drop)))
    vote = report_result(api, target, job_id=options.job_id, success=success, info_url=info_url, notes=notes)
    get_run_logger().info("voted %s for %s on %s (%s)", "success" if vote.success else "failure", options.job_id,
                          target.label, vote.url)
    return vote
