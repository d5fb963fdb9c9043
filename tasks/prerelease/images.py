"""The overcloud's container images for a drop: ``openstack tripleo container image prepare`` with a
ContainerImagePrepare whose tag is the drop's hash, writing the images environment file the update or
upgrade then takes with ``-e``.

The ContainerImagePrepare starts from the undercloud's own file (``drop.containers.prepare_file``: the one
``openstack tripleo container image prepare default`` wrote for the undercloud install), every entry's
``set.tag`` replaced by the drop's hash and ``tag_from_label`` dropped (DLRN's containers are tagged with
the hash); without that file, one entry of the site's ``set`` and ``push_destination``. The host keeps a
marker (``~/.rdoflow/drop-images.json``): while the images file is still the one written for this drop
and these settings, an earlier run's result is reused.
"""

from __future__ import annotations

import copy
import hashlib
import tempfile
import time
from pathlib import Path

import yaml
from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ValidationError

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import ContainerImagesSite
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import (
    ConfigError,
    RemoteCommandFailed,
    ResourceFailed,
    StageTimeout,
)
from rdoflow.outcome import Outcome
from rdoflow.tasks.overcloud.commands import ansible_failures, error_lines
from rdoflow.tasks.prerelease.model import ImagesOutcome
from rdoflow.tasks.prerelease.packages import write_json
from rdoflow.tasks.progress import StageProgress
from rdoflow.tasks.resume import STAGE_CACHE_EXPIRATION, digest, resumable
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import put, read_remote, run

MARKER = ".rdoflow/drop-images.json"
SITE_SET = "the site's drop.containers.set"
TAIL_LINES = 15


class ImagesMarker(BaseModel):
    drop: str
    prepare_sha256: str
    images_sha256: str


def prepare_file_name(stack: str) -> str:
    return f"rdoflow-containers-prepare-{stack}.yaml"


def images_file_name(stack: str) -> str:
    return f"rdoflow-container-images-{stack}.yaml"


def base_entries(text: str | None, source: str, site: ContainerImagesSite) -> list[dict]:
    """The ContainerImagePrepare entries the drop's file starts from: the undercloud's file's, or the site's."""
    if text is None:
        return [{"push_destination": site.push_destination, "set": dict(site.set)}]
    data = parse_yaml(text, source).data
    entries = (data.get("parameter_defaults") or {}).get("ContainerImagePrepare") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries or not all(isinstance(entry, dict) for entry in entries):
        raise ConfigError(source, [f"{source}: parameter_defaults.ContainerImagePrepare: expected a list of entries "
                                   "(set, push_destination, ...), as 'openstack tripleo container image prepare "
                                   "default' writes"])
    return entries


def drop_prepare(entries: list[dict], tag: str) -> str:
    """The ContainerImagePrepare environment for the drop: each entry's set.tag is ``tag``."""
    tagged = []
    for entry in copy.deepcopy(entries):
        entry.pop("tag_from_label", None)
        entry["set"] = {**(entry.get("set") or {}), "tag": tag}
        tagged.append(entry)
    return "# Written by rdoflow for a pre-release drop: the undercloud's ContainerImagePrepare, tagged with the " \
           "drop's hash.\n" + yaml.safe_dump({"parameter_defaults": {"ContainerImagePrepare": tagged}}, sort_keys=False)


def prepare_command(site: ContainerImagesSite, prepare_file: str, images_file: str) -> list[str]:
    roles = ["--roles-file", site.roles_file] if site.roles_file else []
    return ["openstack", "tripleo", "container", "image", "prepare", "-e", prepare_file,
            "--output-env-file", images_file, *roles, *site.extra_args]


def _images(text: str, source: str) -> dict[str, str]:
    data = parse_yaml(text, source).data
    defaults = data.get("parameter_defaults") if isinstance(data, dict) else None
    return {name: value for name, value in (defaults or {}).items() if isinstance(value, str) and ":" in value}


def prepare_images(host: SSHHost, drop_hash: str, site: ContainerImagesSite, stack: str) -> ImagesOutcome:
    """Write the drop's ContainerImagePrepare in the home, run the prepare, and check that the images
    environment it wrote names images of the drop's tag."""
    started = time.monotonic()
    base = read_remote(host, site.prepare_file)
    source = f"{host.address}:~/{site.prepare_file}"
    prepare_text = drop_prepare(base_entries(base.decode(errors="replace") if base else None, source, site), drop_hash)
    prepare_file, images_file = prepare_file_name(stack), images_file_name(stack)
    with tempfile.TemporaryDirectory(prefix="rdoflow-images-") as scratch:
        local = Path(scratch) / prepare_file
        local.write_text(prepare_text)
        put(host, local, prepare_file, mode=0o644)
    progress = StageProgress("drop-images", f"container images of drop {drop_hash}", 1)
    tasks = 0

    def count(stream: str, line: str) -> None:
        nonlocal tasks
        if " |       TASK | " in line or line.startswith("TASK ["):
            tasks += 1
            progress.update(tasks, total=tasks + 1, note=line.rsplit("| ", 1)[-1][:80])

    argv = prepare_command(site, prepare_file, images_file)
    result = run(host, argv, timeout=site.timeout, check=False, on_line=count)
    if result.status == Outcome.TIMEOUT:
        raise StageTimeout(f"{result.command} did not finish within {site.timeout} s and was stopped",
                           evidence=result.tail(TAIL_LINES), hint="raise drop.containers.timeout in the site config")
    if result.status != Outcome.PASS:
        raise _prepare_failed(result)
    progress.finish(note=f"{tasks} tasks")
    written = read_remote(host, images_file)
    if written is None:
        raise ResourceFailed(f"{result.command} exited 0 but wrote no {images_file}", evidence=result.tail(TAIL_LINES))
    images = _images(written.decode(errors="replace"), f"{host.address}:~/{images_file}")
    tagged = [image for image in images.values() if image.endswith(f":{drop_hash}")]
    if not tagged:
        raise ResourceFailed(f"none of the {len(images)} images in ~/{images_file} carries the drop's tag {drop_hash}",
                             evidence=[f"{name}: {image}" for name, image in list(images.items())[:10]],
                             hint="the ContainerImagePrepare entries must set the tag (tag_from_label is removed)")
    outcome = ImagesOutcome(tag=drop_hash, prepare_file=prepare_file, images_file=images_file, images=len(images),
                            tagged=len(tagged), sample=[f"{n}: {i}" for n, i in sorted(images.items())[:5]],
                            based_on=f"~/{site.prepare_file}" if base else SITE_SET,
                            seconds=round(time.monotonic() - started, 1))
    marker = ImagesMarker(drop=drop_hash, prepare_sha256=hashlib.sha256(prepare_text.encode()).hexdigest(),
                          images_sha256=hashlib.sha256(written).hexdigest())
    write_json(host, MARKER, marker.model_dump_json(indent=2) + "\n")
    return outcome


def _prepare_failed(result) -> RemoteCommandFailed | ResourceFailed:
    """The first real error of the prepare: its playbook's failed task, the client's ERROR line, or its exit."""
    failed = ansible_failures(result.stdout.splitlines())
    errors = error_lines(result.stdout.splitlines() + result.stderr.splitlines())
    if failed:
        return ResourceFailed(f"{result.command}: {failed[0].state} on {failed[0].node}: {failed[0].error}",
                              evidence=result.tail(TAIL_LINES),
                              hint="fix the ContainerImagePrepare (the drop's images must exist under its tag)")
    why = errors[0] if errors else f"exit status {result.exit_status}"
    return RemoteCommandFailed(f"{result.command} failed: {why}", evidence=result.tail(TAIL_LINES),
                               hint="read the command's output (the stage's log), fix what it reports, then run "
                                    "the stage again")


def prepared(host: SSHHost, drop_hash: str, stack: str) -> bool:
    """Whether the images environment on the host is still the one written for this drop."""
    raw = read_remote(host, MARKER)
    try:
        marker = ImagesMarker.model_validate_json(raw) if raw is not None else None
    except ValidationError:
        return False
    written = read_remote(host, images_file_name(stack))
    return marker is not None and marker.drop == drop_hash and written is not None \
        and hashlib.sha256(written).hexdigest() == marker.images_sha256


def _images_key(context, parameters: dict) -> str:
    return "drop-images-" + digest(parameters["drop_hash"], parameters["host"].address, parameters["site"],
                                   parameters["stack"])


@task(name="drop-images", task_run_name="container images of drop {drop_hash}", cache_key_fn=_images_key,
      cache_expiration=STAGE_CACHE_EXPIRATION, persist_result=True, **TRANSIENT_RETRIES)
def drop_images(host: SSHHost, drop_hash: str, site: ContainerImagesSite, stack: str) -> ImagesOutcome:
    """``prepare_images`` as a task, cached on the drop and the settings while the host keeps its file."""
    return prepare_images(host, drop_hash, site, stack)


@task(name="observe-drop-images", task_run_name="are the images of drop {drop_hash} prepared", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def observe_images(host: SSHHost, drop_hash: str, stack: str) -> bool:
    return prepared(host, drop_hash, stack)


def images_stage(host: SSHHost, drop_hash: str, site: ContainerImagesSite, stack: str, *, refresh: bool) -> ImagesOutcome:
    state = resumable(drop_images, settled=observe_images(host, drop_hash, stack), refresh=refresh)(
        host, drop_hash, site, stack, return_state=True)
    outcome = state.result()
    return outcome.model_copy(update={"cached": True}) if state.name == "Cached" else outcome
