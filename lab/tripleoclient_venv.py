"""The real python-tripleoclient's venv: what the lab host's ``openstack`` runs for wallaby and zed.

python-tripleoclient 20.0.0 (Zed), tripleo-common 18.0.0 and tripleo-ansible 6.0.0, with
ansible 8.7.0 (ansible-core 2.15), as docs/lab.md and the shared note on the real
client describe. Kept apart from the lab's venv: their pins differ from Ironic's and Heat's.

The pins are a lock of every package, installed with ``--no-deps``: validations-libs 1.9.0
(which tripleoclient needs) asks for ansible < 2.10, which does not run on Python 3.11, and
pip's resolver, given ansible 8.7.0 as well, gives up. Installing ansible 2.9 first and
upgrading it afterwards is worse: ansible 2.9 and ansible-core share the ``ansible``
package, and removing 2.9 deletes ansible-core's files (no ``ansible-playbook`` left).
``pip check`` names that one conflict only. Made from ``pip freeze`` of python-tripleoclient==20.0.0
tripleo-common==18.0.0 netifaces ansible==8.7.0, then tripleo-ansible==6.0.0 --no-deps.

Finishing the venv: the openstacksdk shims (lab/tripleoclient_shims.py, loaded from a .pth)
and an ``ansible-playbook`` that finds tripleo-ansible's plugins and roles in the venv,
where tripleoclient names only /usr/share/ansible.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from .venv import VenvSpec

HERE = Path(__file__).resolve().parent
SHIMS = HERE / "tripleoclient_shims.py"

LOCK = (
    "ansible==8.7.0", "ansible-core==2.15.13", "ansible-runner==2.4.3", "attrs==26.1.0", "autopage==0.6.0",
    "certifi==2026.10.19.post1", "cffi==2.1.1", "charset-normalizer==3.5.3", "cliff==4.17.0", "cmd2==4.3.1",
    "cryptography==51.0.1", "debtcollector==3.1.0", "decorator==5.3.2", "dogpile.cache==1.5.0", "fasteners==0.20",
    "gitdb==4.0.12", "GitPython==3.2.1", "idna==3.21", "iso8601==2.1.0", "Jinja2==3.1.6", "jmespath==1.1.0",
    "jsonpatch==1.48", "jsonpointer==3.12", "jsonschema==4.26.0", "jsonschema-specifications==2025.9.1",
    "keystoneauth1==5.18.1", "lockfile==0.12.2", "markdown-it-py==4.3.0", "MarkupSafe==3.0.4", "mdurl==0.1.2",
    "metalsmith==2.5.0", "msgpack==1.2.4", "netaddr==1.3.0", "netifaces==0.11.0", "openstacksdk==4.22.0",
    "os-service-types==1.9.0", "osc-lib==4.7.0", "oslo.concurrency==7.6.1", "oslo.config==10.7.0",
    "oslo.context==6.5.0", "oslo.i18n==6.9.0", "oslo.log==8.3.2", "oslo.serialization==5.11.0",
    "oslo.utils==10.2.0", "packaging==26.4", "passlib==1.7.4", "pbr==7.1.3", "pexpect==4.9.0",
    "platformdirs==4.14.9", "prettytable==3.19.0", "prompt_toolkit==3.0.53", "psutil==7.2.2", "ptyprocess==0.7.0",
    "pycparser==3.12", "Pygments==2.21.0", "pyparsing==3.3.3", "pyperclip==1.11.0", "python-daemon==3.1.2",
    "python-dateutil==4.0.0", "python-heatclient==5.3.0", "python-ironic-inspector-client==5.4.0",
    "python-ironicclient==6.3.0", "python-keystoneclient==6.0.0", "python-manilaclient==6.3.0",
    "python-openstackclient==10.5.0", "python-swiftclient==4.11.0", "python-tripleoclient==20.0.0", "PyYAML==6.0.4",
    "referencing==0.37.0", "requests==2.34.2", "resolvelib==1.0.1", "rfc3986==2.0.0", "rich==15.0.0",
    "rich-argparse==1.8.0", "rpds-py==2026.9.1", "six==1.17.0", "smmap==5.0.3", "stevedore==5.10.0",
    "tenacity==9.2.1", "tripleo-ansible==6.0.0", "tripleo-common==18.0.0", "typing_extensions==4.16.0",
    "tzdata==2026.6", "urllib3==2.8.0", "validations-libs==1.9.0", "wcwidth==0.9.5", "wrapt==2.5.2",
)

# tripleoclient's directories under /usr/share/ansible, and the variable that names each kind.
ANSIBLE_PATHS = {
    "ANSIBLE_LIBRARY": "plugins/modules",
    "ANSIBLE_MODULE_UTILS": "plugins/module_utils",
    "ANSIBLE_ACTION_PLUGINS": "plugins/action",
    "ANSIBLE_FILTER_PLUGINS": "plugins/filter",
    "ANSIBLE_STRATEGY_PLUGINS": "plugins/strategy",
    "ANSIBLE_TEST_PLUGINS": "plugins/tests",
    "ANSIBLE_CALLBACK_PLUGINS": "plugins/callback:$share/callback_plugins",
    "ANSIBLE_ROLES_PATH": "roles",
}

PLAYBOOK_WRAPPER = """\
#!/bin/sh
# ansible-playbook with this venv's tripleo-ansible first on each path: tripleoclient names
# /usr/share/ansible only. Written by the rdoflow lab (lab/tripleoclient_venv.py).
here=$(cd "$(dirname "$0")" && pwd)
share=$(dirname "$here")/share/ansible
{exports}
export ANSIBLE_PYTHON_INTERPRETER="${{ANSIBLE_PYTHON_INTERPRETER:-$here/python}}"
exec "$here/.ansible-playbook-real" "$@"
"""


def _wrapper() -> str:
    lines = [f'export {name}="$share/{paths}${{{name}:+:${name}}}"' for name, paths in ANSIBLE_PATHS.items()]
    return PLAYBOOK_WRAPPER.format(exports="\n".join(lines))


def finish(venv: Path) -> None:
    """The shims' .pth and module in site-packages; ansible-playbook replaced by the wrapper."""
    purelib = next((venv / "lib").glob("python3*/site-packages"))
    shutil.copyfile(SHIMS, purelib / "tripleoclient_lab_shims.py")
    (purelib / "tripleoclient_lab_shims.pth").write_text("import tripleoclient_lab_shims\n")
    playbook = venv / "bin/ansible-playbook"
    playbook.rename(venv / "bin/.ansible-playbook-real")
    playbook.write_text(_wrapper())
    playbook.chmod(0o755)


REVISION = hashlib.sha256(SHIMS.read_bytes() + _wrapper().encode()).hexdigest()[:12]

TRIPLEOCLIENT = VenvSpec(
    "tripleoclient", "python-tripleoclient 20.0.0, tripleo-common 18.0.0, tripleo-ansible 6.0.0, ansible 8.7.0",
    LOCK, no_deps=True, finish=finish, revision=REVISION,
)

# Wallaby's (RHOSP 17.1's base): python-tripleoclient 16.5.0 and tripleo-common 15.4.0 (both stable/wallaby).
# Made as LOCK was: ``pip install python-tripleoclient==16.5.0 tripleo-common==15.4.0 netifaces`` (pip picks
# ansible 2.9.27 for validations-libs), ansible 2.9 uninstalled, then ansible==8.7.0 ansible-core==2.15.13
# resolvelib==1.0.1 tripleo-ansible==6.0.0 with --no-deps, and ``pip freeze``. Wallaby's own tripleo-ansible
# (3.x) is not on PyPI, and its stable/wallaby modules of 2021 import ``ansible.module_utils.openstack``,
# which only ansible 2.9 has (and ansible 2.9 does not run on Python 3.11): tripleo-ansible 6.0.0's
# cli-baremetal-introspect.yaml and cli-overcloud-node-provide.yaml take the same variables as Wallaby's.
LOCK_WALLABY = (
    "ansible-core==2.15.13", "ansible-runner==2.4.3", "ansible==8.7.0", "attrs==26.1.0", "autopage==0.6.0",
    "bcrypt==5.0.0", "certifi==2026.10.19.post1", "cffi==2.1.1", "charset-normalizer==3.5.3", "cliff==4.17.0",
    "cmd2==4.3.1", "cryptography==50.0.2", "debtcollector==3.1.0", "decorator==5.3.2", "dnspython==2.9.2",
    "dogpile.cache==1.5.0", "eventlet==0.41.3", "fasteners==0.20", "gitdb==4.0.12", "GitPython==3.2.1",
    "greenlet==3.5.6", "idna==3.21", "invoke==3.0.3", "iso8601==2.1.0", "Jinja2==3.1.6", "jmespath==1.1.0",
    "jsonpatch==1.48", "jsonpointer==3.12", "jsonschema-specifications==2025.9.1", "jsonschema==4.26.0",
    "keystoneauth1==5.18.1", "lockfile==0.12.2", "markdown-it-py==4.3.0", "MarkupSafe==3.0.4", "mdurl==0.1.2",
    "metalsmith==2.5.0", "msgpack==1.2.4", "netaddr==1.3.0", "netifaces==0.11.0", "openstacksdk==4.22.0",
    "os-service-types==1.9.0", "osc-lib==4.7.0", "oslo.concurrency==7.6.1", "oslo.config==10.7.0",
    "oslo.context==6.5.0", "oslo.i18n==6.9.0", "oslo.log==8.3.2", "oslo.rootwrap==7.10.0",
    "oslo.serialization==5.11.0", "oslo.utils==10.2.0", "packaging==26.4", "paramiko==5.1.0", "passlib==1.7.4",
    "pbr==7.1.3", "pexpect==4.9.0", "platformdirs==4.14.9", "prettytable==3.19.0", "prompt_toolkit==3.0.53",
    "psutil==7.2.2", "ptyprocess==0.7.0", "pycparser==3.12", "Pygments==2.21.0", "PyNaCl==1.6.2", "pyOpenSSL==26.4.0",
    "pyparsing==3.3.3", "pyperclip==1.11.0", "python-daemon==3.1.2", "python-dateutil==4.0.0",
    "python-glanceclient==4.13.0", "python-heatclient==5.3.0", "python-ironic-inspector-client==5.4.0",
    "python-ironicclient==6.3.0", "python-keystoneclient==6.0.0", "python-manilaclient==6.3.0",
    "python-mistralclient==6.3.0", "python-novaclient==18.13.1", "python-openstackclient==10.5.0",
    "python-swiftclient==4.11.0", "python-tripleoclient==16.5.0", "PyYAML==6.0.4", "referencing==0.37.0",
    "requests==2.34.2", "resolvelib==1.0.1", "rfc3986==2.0.0", "rich-argparse==1.8.0", "rich==15.0.0",
    "rpds-py==2026.9.1", "simplejson==4.3.0", "six==1.17.0", "smmap==5.0.3", "stevedore==5.10.0", "tenacity==9.2.1",
    "tripleo-ansible==6.0.0", "tripleo-common==15.4.0", "typing_extensions==4.16.0", "tzdata==2026.6",
    "urllib3==2.8.0", "validations-libs==1.9.0", "warlock==2.1.0", "wcwidth==0.9.5", "wrapt==2.5.2",
)

TRIPLEOCLIENT_WALLABY = VenvSpec(
    "tripleoclient-wallaby",
    "python-tripleoclient 16.5.0, tripleo-common 15.4.0, tripleo-ansible 6.0.0, ansible 8.7.0",
    LOCK_WALLABY, no_deps=True, finish=finish, revision=REVISION,
)

# lab.yaml's release -> the venv of its real client.
CLIENTS = {"wallaby": TRIPLEOCLIENT_WALLABY, "zed": TRIPLEOCLIENT}
# lab.yaml's release -> the venv of the client that runs 'overcloud deploy' (and the provision stand-in's
# expansion). Wallaby's deploy runs Zed's client on Zed's templates: its own does not get through here.
# With tripleo-heat-templates 14.3.0 (Wallaby's), past four lab-side patches (openstacksdk 4's NotSupported
# and deferred proxies where Wallaby's OSC raised EndpointNotFound, so that it assumes --deployed-server; the
# native Heat launcher's missing heat_db_sync(restore_db), wait_for_message_queue and rm_heat, upstream bugs
# of 16.5.0; the ctlplane VIP port that 'network vip provision' maps; the post-stack unprovision play, which
# reaches Neutron), the stack reaches CREATE_COMPLETE, then config-download fails: tripleo-ansible 6.0.0's
# tripleo_generate_ansible_inventory calls generate_tripleo_ansible_inventory(cloud_name=...), which
# tripleo-common 18 has and 15.4.0 has not (it takes auth_url, username, project_name). Wallaby's own
# tripleo-ansible would match it, and it is not on PyPI (docs/releases.md).
DEPLOY_CLIENTS = {"wallaby": TRIPLEOCLIENT, "zed": TRIPLEOCLIENT}
