"""The environment of the real python-tripleoclient's commands on a wallaby or zed lab host."""

from __future__ import annotations

from pathlib import Path

HTTP_BOOT = "httpboot"


def client_environment(lab_dir: Path, client: Path, environ: dict[str, str]) -> dict[str, str]:
    env = {name: value for name, value in environ.items() if name != "PYTHONPATH"}  # the lab's code: not the client's
    env.setdefault("OS_CLOUD", "undercloud")
    env.setdefault("HTTP_BOOT", str(lab_dir / HTTP_BOOT))
    # tripleoclient logs its playbooks to the account's home from the password database (the machine's
    # /root here): the lab's home instead, as on an undercloud where both are the same.
    env.setdefault("ANSIBLE_LOG_PATH", str(Path(env.get("HOME") or Path.home()) / "ansible.log"))
    env["PATH"] = f"{client / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"  # its ansible-playbook wrapper
    return env
