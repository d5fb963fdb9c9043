"""The remote-command task inside real flow runs on a Prefect server: what is retried, what is logged."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from prefect import flow
from pydantic import SecretStr

from rdoflow.blocks import SSHHost
from rdoflow.config.ssh import SSHTarget
from rdoflow.tasks.ssh.connect import SSHAuthenticationFailed
from rdoflow.tasks.ssh.remote import CommandNotFound, CommandResult, remote_command
from tests.conftest import logs_of, task_runs_of

pytestmark = pytest.mark.usefixtures("prefect_server")


@flow(name="remote-probe")
def remote_probe(target: SSHTarget, argv: list[str], secret_word: SecretStr | None = None) -> CommandResult:
    """What a stage does: resolve the host from its parameter, run one command through the task."""
    host = SSHHost.from_target(target)
    return remote_command(host, [*argv, secret_word] if secret_word else argv)


def _target(sshd, **changes) -> SSHTarget:
    return SSHTarget(**(sshd.endpoint().model_dump() | changes))


def test_a_connection_dropped_mid_command_is_retried_and_the_task_succeeds(sshd, tmp_path):
    marker = tmp_path / "first-attempt-started"
    script = f'if [ -e {marker} ]; then echo second attempt; else touch {marker}; sleep 30; fi'

    def drop_when_started() -> None:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        sshd.drop_sessions()

    dropper = threading.Thread(target=drop_when_started)
    dropper.start()
    state = remote_probe(_target(sshd), ["sh", "-c", script], return_state=True)
    dropper.join()
    assert state.is_completed(), state.message
    assert state.result().stdout == "second attempt"
    [task_run] = task_runs_of(state.state_details.flow_run_id)
    assert task_run.run_count == 2


def test_a_key_the_server_refuses_fails_once_without_retries(sshd, tmp_path):
    import subprocess

    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    state = remote_probe(_target(sshd, private_key_file=stranger), ["true"], return_state=True)
    assert state.is_failed()
    with pytest.raises(SSHAuthenticationFailed):
        state.result()
    [task_run] = task_runs_of(state.state_details.flow_run_id)
    assert task_run.run_count == 1


def test_a_missing_command_fails_once_without_retries(sshd):
    state = remote_probe(_target(sshd), ["openstack-no-such-command"], return_state=True)
    with pytest.raises(CommandNotFound):
        state.result()
    [task_run] = task_runs_of(state.state_details.flow_run_id)
    assert task_run.run_count == 1


def test_output_lines_reach_the_flow_run_log(sshd):
    state = remote_probe(_target(sshd), ["sh", "-c", "echo preflight-ok; echo warning-line >&2"], return_state=True)
    messages = logs_of(state.state_details.flow_run_id)
    assert "out| preflight-ok" in messages and "err| warning-line" in messages


def test_neither_the_private_key_nor_a_password_reaches_the_logs(sshd, tmp_path):
    key_text = sshd.client_key_file.read_text()
    block_name = f"probe-{uuid.uuid4().hex[:8]}"
    SSHHost(**sshd.endpoint().model_dump(exclude={"private_key_file"}), private_key=SecretStr(key_text)).save(block_name)
    password = "Hunter2-" + uuid.uuid4().hex
    state = remote_probe(
        SSHTarget(block=block_name),
        ["sh", "-c", f"cat {sshd.client_key_file}; echo \"$0\"; echo \"$0\" >&2"],
        secret_word=SecretStr(password),
        return_state=True,
    )
    assert state.is_completed(), state.message
    messages = "\n".join(logs_of(state.state_details.flow_run_id))
    assert "out| **********" in messages, "the echoed password should be logged masked"
    assert password not in messages
    key_body = [line for line in key_text.splitlines() if not line.startswith("-----")]
    assert key_body and not any(line in messages for line in key_body)
    result = state.result()
    assert password not in result.model_dump_json() and key_body[0] not in result.stdout
