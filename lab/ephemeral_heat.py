"""What a wallaby or zed lab host needs for the real ``openstack overcloud deploy`` (set up by ``lab up``).

- tripleo-heat-templates 18.0.0 (Zed's), the sdist unpacked and cached like the venvs, keyed by
  version: the wheel holds no template. The host's /usr/share/openstack-tripleo-heat-templates.
- yaql 2.0.1 in a venv of its own, for the ephemeral Heat only (lab/heat_all.py, native mode):
  the templates call yaql's ``format``, which yaql 3 (the lab venv's, Heat 27's) removed.
- ``DIR/deploy-bin``, first on the deploy's PATH: the ``heat-all`` and ``heat-manage`` that
  tripleoclient's ``HeatNativeLauncher`` runs (there is no podman here for its pod), and a
  ``getent`` that answers for ``<host>.ctlplane`` as the /etc/hosts entry a real undercloud
  install writes does (the lab does not touch the machine's /etc/hosts).
- ``~/.ssh/id_rsa_tripleo``: the key pair a Wallaby+ undercloud install leaves for the overcloud's
  ``tripleo-admin`` (``overcloud node provision`` and ``overcloud deploy`` look for it).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from .venv import LabVenvFailed, VenvSpec, built_once, cache_root, ensure_venv

THT_VERSION = "18.0.0"
HEAT_YAQL = VenvSpec("heat-yaql", "yaql 2.0.1 for the ephemeral Heat", ("yaql==2.0.1", "ply==3.11"), no_deps=True)
DEPLOY_BIN = "deploy-bin"
TRIPLEO_KEY = "home/.ssh/id_rsa_tripleo"
CTLPLANE_IP = "192.168.24.1"  # undercloud.conf's local_ip default
HEAT_ALL = Path(__file__).with_name("heat_all.py")

HEAT_ALL_SCRIPT = """\
#!/bin/sh
# heat-all for tripleoclient's HeatNativeLauncher: Heat 27's engine and API in one process (lab/heat_all.py),
# on a fresh database in the lab's PostgreSQL. Written by the rdoflow lab.
export PYTHONWARNINGS=ignore RDOFLOW_LAB_HEAT_YAQL={yaql}
export RDOFLOW_LAB_HEAT_DB="${{RDOFLOW_LAB_HEAT_DB:-{database}}}"
exec {python} -P {launcher} --native "$@"
"""
HEAT_MANAGE_SCRIPT = """\
#!/bin/sh
# heat-manage for tripleoclient's HeatNativeLauncher. Its 'db_sync' runs inside heat-all instead, once the API
# port is bound: the client allows the API about 5 s after its fork, and the schema takes longer on a busy host.
# Written by the rdoflow lab.
case " $* " in
  *" db_sync "*) exit 0 ;;
esac
exec {heat_manage} "$@"
"""
GETENT_SCRIPT = """\
#!/bin/sh
# getent, answering for this host's ctlplane name as the /etc/hosts entry of a real undercloud install does.
# Written by the rdoflow lab.
if [ "$1" = hosts ] && [ "$2" = "$(hostname -s).ctlplane" ]; then
  echo "{ip}      $2"
  exit 0
fi
exec /usr/bin/getent "$@"
"""


def tht_dir(version: str = THT_VERSION) -> Path:
    return cache_root() / f"tripleo-heat-templates-{version}"


def ensure_templates(version: str = THT_VERSION, *, say=print) -> Path:
    """The unpacked sdist of tripleo-heat-templates ``version``; downloaded the first time (atomic, locked)."""
    target = tht_dir(version)

    def build() -> None:
        say(f"downloading tripleo-heat-templates {version} (the sdist: the wheel holds no template) into {target}")
        with tempfile.TemporaryDirectory(dir=target.parent) as work:
            argv = [str(ensure_venv(HEAT_YAQL, say=say) / "bin/python"), "-m", "pip", "download", "-q", "--no-deps",
                    "--no-binary", ":all:", "-d", work, f"tripleo-heat-templates=={version}"]
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            archives = list(Path(work).glob("tripleo*heat*templates-*.tar.gz"))
            if done.returncode or not archives:
                raise LabVenvFailed(f"could not download tripleo-heat-templates {version}",
                                    evidence=(done.stdout + done.stderr).splitlines()[-10:],
                                    hint="check that PyPI is reachable, then run 'rdoflow lab up' again")
            with tarfile.open(archives[0]) as archive:
                archive.extractall(work, filter="data")
            unpacked = Path(work) / archives[0].name.removesuffix(".tar.gz")
            (unpacked / ".complete").write_text(f"tripleo-heat-templates=={version}\n")
            shutil.rmtree(target, ignore_errors=True)
            unpacked.rename(target)

    return built_once(target, build)


def install_deploy_host(lab_dir: Path, *, venv: Path, postgres_port: int, say=print) -> dict[str, str]:
    """The deploy's programs, templates and key on the lab host; returns the environment the host's
    ``openstack`` needs to find them."""
    templates = ensure_templates(say=say)
    yaql = ensure_venv(HEAT_YAQL, say=say)
    bin_dir = lab_dir / DEPLOY_BIN
    bin_dir.mkdir(exist_ok=True)
    site_packages = next((yaql / "lib").glob("python3*/site-packages"))
    scripts = {
        "heat-all": HEAT_ALL_SCRIPT.format(
            python=shlex.quote(str(venv / "bin/python")), launcher=shlex.quote(str(HEAT_ALL)),
            yaql=shlex.quote(str(site_packages)),
            database=f"postgresql+psycopg2://heat@127.0.0.1:{postgres_port}/heat_ephemeral"),
        "heat-manage": HEAT_MANAGE_SCRIPT.format(heat_manage=shlex.quote(str(venv / "bin/heat-manage"))),
        "getent": GETENT_SCRIPT.format(ip=CTLPLANE_IP),
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    key = lab_dir / TRIPLEO_KEY
    if not key.exists():
        key.parent.mkdir(parents=True, exist_ok=True)
        key.parent.chmod(0o700)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "tripleo-admin@undercloud", "-f", str(key)],
                       check=True)
    return {"RDOFLOW_LAB_THT": str(templates), "RDOFLOW_LAB_DEPLOY_BIN": str(bin_dir)}
