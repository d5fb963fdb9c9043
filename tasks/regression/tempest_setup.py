"""Tempest set up where it runs (``regression.setup``): the workspace and its tempest.conf, as on a real site.

1. ``tempest init WORKDIR`` where WORKDIR holds no workspace yet (no ``.stestr.conf``); a directory with
   other files in it is refused, as ``tempest init`` itself refuses it.
2. ``discover-tempest-config`` (python-tempestconf) with the OS_* variables of the credentials file, which is
   sourced on the host and never read here: ``--out WORKDIR/etc/tempest.conf``, ``--create`` when asked,
   the deployer input, ``DEFAULT.debug false`` (with debug on, one class's log attachment of 7.6 MB broke
   the subunit stream: no totals, and ``stestr last`` crashed) and the site's plain overrides.
3. The overrides whose value is ``env:NAME``, set in that tempest.conf on the host from the sourced
   variables; they travel on stdin, so no secret is on a command line (``ps``), and the file stays 0600.
4. ``tempest list-plugins`` must name each plugin the site needs.

Idempotent: the digest of the inputs (with the credentials file's sha256 on the host, not its content) is
kept in ``WORKDIR/.rdoflow/tempest-setup.json``; the same digest beside a tempest.conf means nothing to do.
The host's marker is the cache, not Prefect's: a removed workspace is then set up again.
"""

from __future__ import annotations

import json
import re
import time

from prefect import task
from prefect.cache_policies import NO_CACHE

from rdoflow.blocks.ssh import SSHHost
from rdoflow.config.site import ENV_REFERENCE, RegressionSite, TempestSetup
from rdoflow.errors import RdoflowError
from rdoflow.tasks.regression.model import TempestSetupResult
from rdoflow.tasks.resume import digest
from rdoflow.tasks.retries import TRANSIENT_RETRIES
from rdoflow.tasks.ssh.remote import read_remote, run

MARKER = ".rdoflow/tempest-setup.json"
CONF = "etc/tempest.conf"
FIXED = {"DEFAULT": {"debug": "false"}}  # before the site's overrides, which may say otherwise
# The credentials file's variables, exported, for the command after it ("$1": the file, "$@": the command).
SOURCED = 'set -a && . "$1" && set +a && shift && exec "$@"'
# Sets tempest.conf values from the environment: stdin is {"section": {"key": "NAME"}}; argv[1] the file.
SET_FROM_ENV = """
import configparser, json, os, sys
wanted = json.load(sys.stdin)
conf = configparser.RawConfigParser()
conf.optionxform = str
conf.read(sys.argv[1])
missing = []
for section, values in wanted.items():
    if section != "DEFAULT" and not conf.has_section(section):
        conf.add_section(section)
    for key, name in values.items():
        if name not in os.environ:
            missing.append(name)
            continue
        conf.set(section, key, os.environ[name])
if missing:
    sys.exit("not set by the credentials file: " + ", ".join(sorted(set(missing))))
old = os.umask(0o077)
with open(sys.argv[1] + ".rdoflow", "w") as out:
    conf.write(out)
os.umask(old)
os.replace(sys.argv[1] + ".rdoflow", sys.argv[1])
"""
PLUGIN_ROW = re.compile(r"^\|\s*([^|\s][^|]*?)\s*\|")
LABEL = re.compile(r"^(stdout|stderr): ")
OSLO_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \d+ [A-Z]+ \S+ ?")


class TempestSetupFailed(RdoflowError):
    """Tempest could not be set up on the host: rdoflow could not test (exit 3), the cloud was not judged."""

    reference = "tempest-setup-failed"


@task(name="tempest-setup", task_run_name="set Tempest up in {regression.workdir}", cache_policy=NO_CACHE,
      **TRANSIENT_RETRIES)
def setup_tempest(host: SSHHost, regression: RegressionSite) -> TempestSetupResult:
    """Make ``regression.workdir`` a configured Tempest workspace, unless it already is one for these inputs."""
    setup, workdir = regression.setup, regression.workdir.rstrip("/")
    if setup is None:
        raise ValueError("regression.setup is not set")
    started = time.monotonic()
    home = run(host, ["pwd"], timeout=60, log_output=False).stdout.strip()  # commands start in the home
    setup, workdir = _absolute(setup, home), _under(home, workdir)
    inputs = _inputs_digest(host, setup, workdir)
    marker = _marker(read_remote(host, f"{workdir}/{MARKER}"))
    conf_there = _exists(host, f"{workdir}/{CONF}")
    if marker.get("inputs") == inputs and conf_there:
        return TempestSetupResult(workdir=workdir, inputs=inputs, changed=False, plugins=marker.get("plugins", []),
                                  why="already set up for these inputs (the credentials, overrides and plugins)",
                                  duration=time.monotonic() - started)
    initialized = _init(host, workdir)
    _discover(host, setup, workdir)
    _set_from_env(host, setup, workdir)
    plugins = _plugins(host, setup)
    _write_marker(host, workdir, inputs, plugins)
    why = "no workspace yet" if initialized else "new inputs" if marker else "no record of an earlier setup"
    return TempestSetupResult(workdir=workdir, inputs=inputs, changed=True, initialized=initialized,
                              plugins=plugins, why=why, duration=time.monotonic() - started)


def _under(home: str, path: str) -> str:
    return path if path.startswith("/") else f"{home.rstrip('/')}/{path.removeprefix('~/')}"


def _absolute(setup: TempestSetup, home: str) -> TempestSetup:
    """The setup with its files named from the root: discover-tempest-config runs in the workspace (where
    it keeps what it downloads), and a name without a slash would send bash's '.' searching PATH."""
    deployer = _under(home, setup.deployer_input) if setup.deployer_input else None
    return setup.model_copy(update={"credentials": _under(home, setup.credentials), "deployer_input": deployer})


def _exists(host: SSHHost, path: str) -> bool:
    return run(host, ["test", "-e", path], check=False, timeout=60, log_output=False).exit_status == 0


def _inputs_digest(host: SSHHost, setup: TempestSetup, workdir: str) -> str:
    files = [setup.credentials, *([setup.deployer_input] if setup.deployer_input else [])]
    summed = run(host, ["sha256sum", "--", *files], check=False, timeout=120, log_output=False)
    if summed.exit_status != 0:
        raise TempestSetupFailed(
            f"{host.address}: cannot read {' or '.join(files)} (regression.setup): "
            f"{(summed.stderr or summed.stdout).strip().splitlines()[-1:] or ['no output']}",
            hint="regression.setup.credentials names the cloud's credentials file on the undercloud "
                 "(TripleO's deploy writes ~/<stack>rc); deploy the overcloud first, or name the right file")
    version = run(host, ["tempest", "--version"], check=False, timeout=120, log_output=False)
    if version.exit_status == 127:
        raise TempestSetupFailed(f"{host.address}: no 'tempest' command (regression.setup needs Tempest where it "
                                 "runs)", hint="install Tempest and python-tempestconf on the undercloud (RDO: "
                                 "dnf install openstack-tempest python3-tempestconf, and the plugins' packages)")
    return digest(summed.stdout.split()[::2], setup.model_dump(mode="json"), workdir,
                  (version.stdout or version.stderr).strip())


def _marker(raw: bytes | None) -> dict:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _init(host: SSHHost, workdir: str) -> bool:
    """``tempest init`` where there is no workspace; False when there is one already."""
    if _exists(host, f"{workdir}/.stestr.conf"):
        return False
    listed = run(host, ["ls", "-A", "--", workdir], check=False, timeout=60, log_output=False)
    if listed.exit_status == 0 and listed.stdout.strip():
        raise TempestSetupFailed(
            f"{host.address}:{workdir} has files but no Tempest workspace (.stestr.conf); tempest init refuses it",
            evidence=listed.stdout.split()[:10],
            hint="point regression.workdir at an empty or missing directory, or at an existing workspace")
    made = run(host, ["tempest", "init", workdir], check=False, timeout=600)
    if made.exit_status != 0:
        raise TempestSetupFailed(f"{host.address}: tempest init {workdir} failed (exit {made.exit_status})",
                                 evidence=made.tail(), hint="read tempest's message above")
    return True


def _plain_overrides(setup: TempestSetup) -> list[str]:
    """``section.key value`` pairs for discover-tempest-config: rdoflow's fixed ones, then the site's
    (those taken from the environment are set afterwards, from stdin)."""
    merged = {section: dict(values) for section, values in FIXED.items()}
    for section, values in setup.overrides.items():
        merged.setdefault(section, {}).update(values)
    pairs = []
    for section, values in merged.items():
        for key, value in values.items():
            if not (isinstance(value, str) and ENV_REFERENCE.match(value)):
                pairs += [f"{section}.{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    return pairs


def _discover(host: SSHHost, setup: TempestSetup, workdir: str) -> None:
    argv = ["bash", "-c", SOURCED, "rdoflow-tempest-setup", setup.credentials,
            "discover-tempest-config", "--out", f"{workdir}/{CONF}",
            *(["--create"] if setup.create else []),
            *(["--deployer-input", setup.deployer_input] if setup.deployer_input else []),
            *setup.extra_args, *_plain_overrides(setup)]
    done = run(host, argv, check=False, timeout=1800, cwd=workdir)
    if done.exit_status == 127:
        raise TempestSetupFailed(f"{host.address}: no 'discover-tempest-config' command (python-tempestconf)",
                                 hint="install python3-tempestconf on the undercloud")
    if done.exit_status != 0:
        raise TempestSetupFailed(
            f"{host.address}: discover-tempest-config failed (exit {done.exit_status}): {_last_error(done.tail())}",
            evidence=done.tail(),
            hint=f"check the cloud's credentials in {setup.credentials} and that its Keystone answers from the "
                 "undercloud; the overrides may also name a section it does not know")


def _last_error(lines: list[str]) -> str:
    """The last line that says something: the exception after a traceback, without the output's label
    and oslo.log's prefix (date, pid, level, logger)."""
    for line in reversed(lines):
        text = OSLO_PREFIX.sub("", LABEL.sub("", line, count=1), count=1)
        if text.strip() and not text[:1].isspace():
            return text.strip()
    return "no output"


def _set_from_env(host: SSHHost, setup: TempestSetup, workdir: str) -> None:
    wanted: dict[str, dict[str, str]] = {}
    for section, values in setup.overrides.items():
        for key, value in values.items():
            found = ENV_REFERENCE.match(value) if isinstance(value, str) else None
            if found:
                wanted.setdefault(section, {})[key] = found.group(1)
    if not wanted:
        return
    done = run(host, ["bash", "-c", SOURCED, "rdoflow-tempest-setup", setup.credentials,
                      "python3", "-c", SET_FROM_ENV, f"{workdir}/{CONF}"],
               stdin=json.dumps(wanted), check=False, timeout=120)
    if done.exit_status != 0:
        raise TempestSetupFailed(f"{host.address}: the env: overrides could not be set in {workdir}/{CONF}: "
                                 f"{_last_error(done.tail())}", evidence=done.tail(),
                                 hint=f"each env:NAME must be a variable that {setup.credentials} sets")


def _plugins(host: SSHHost, setup: TempestSetup) -> list[str]:
    listed = run(host, ["tempest", "list-plugins"], check=False, timeout=300, log_output=False)
    installed = [m.group(1) for m in map(PLUGIN_ROW.match, listed.stdout.splitlines()) if m]
    installed = [name for name in installed if name.lower() != "name"]
    missing = [name for name in setup.plugins if name not in installed]
    if missing:
        raise TempestSetupFailed(
            f"{host.address}: Tempest plugin(s) not installed: {', '.join(missing)} (regression.setup.plugins)",
            evidence=[f"tempest list-plugins: {', '.join(installed) or 'none'}"],
            hint="install the plugins' packages where Tempest runs (RDO: python3-<project>-tests-tempest)")
    return installed


def _write_marker(host: SSHHost, workdir: str, inputs: str, plugins: list[str]) -> None:
    record = json.dumps({"inputs": inputs, "plugins": plugins, "at": time.time()})
    run(host, ["bash", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "rdoflow-marker", f"{workdir}/{MARKER}"],
        stdin=record, timeout=60, log_output=False)
