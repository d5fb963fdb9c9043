"""Remote execution against OpenSSH's real sshd on 127.0.0.1: output, exit codes, timeouts, host keys, SFTP."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from rdoflow.blocks import SSHHost
from rdoflow.errors import RemoteCommandFailed, TransientError
from rdoflow.lab.sshd import free_port
from rdoflow.tasks.ssh.connect import (
    POOL,
    HostKeyMismatch,
    HostKeyUnknown,
    SSHAuthenticationFailed,
    SSHConnectFailed,
    connect,
)
from rdoflow.tasks.ssh.remote import (
    CommandNotFound,
    RemoteCommandTimeout,
    RemoteFileNotFound,
    get,
    put,
    run,
)
from tests.conftest import remote_processes


def test_output_reaches_the_caller_line_by_line_while_the_command_runs(ssh_host):
    arrivals: list[tuple[str, str, float]] = []
    run(ssh_host, ["sh", "-c", "echo first; sleep 1.5; echo second >&2; sleep 0.5; echo third"],
        on_line=lambda stream, line: arrivals.append((stream, line, time.monotonic())))
    finished = time.monotonic()
    assert [(s, line) for s, line, _ in arrivals] == [("stdout", "first"), ("stderr", "second"), ("stdout", "third")]
    assert finished - arrivals[0][2] >= 1.0, "the first line should arrive before the command ends"


def test_result_holds_exit_status_output_and_duration(ssh_host):
    result = run(ssh_host, ["sh", "-c", "echo out; echo err >&2; sleep 0.3; exit 3"], check=False)
    assert (result.status, result.exit_status) == ("fail", 3)
    assert (result.stdout, result.stderr) == ("out", "err")
    assert result.duration >= 0.3


def test_a_failing_command_raises_with_its_exit_status_and_last_lines(ssh_host):
    with pytest.raises(RemoteCommandFailed) as caught:
        run(ssh_host, ["sh", "-c", "echo 'disk full' >&2; exit 4"])
    assert "exit status 4" in str(caught.value)
    assert "stderr: disk full" in caught.value.evidence
    assert caught.value.result.exit_status == 4


def test_every_argument_reaches_the_command_verbatim(ssh_host):
    awkward = ["two words", "it's", '"quoted"', "$HOME", "; rm -rf /tmp/nothing", "*", "back\\slash", "ünïcode"]
    result = run(ssh_host, ["printf", "%s\\n", *awkward])
    assert result.stdout.splitlines() == awkward


def test_cwd_runs_the_command_in_that_directory(ssh_host, tmp_path):
    assert run(ssh_host, ["pwd"], cwd=str(tmp_path)).stdout == str(tmp_path)


def test_a_command_that_outlives_its_timeout_is_killed_on_the_remote_side(ssh_host):
    with pytest.raises(RemoteCommandTimeout) as caught:
        run(ssh_host, ["sh", "-c", "sleep 3171 & sleep 3172; wait"], timeout=1.5)
    assert caught.value.result.status == "timeout"
    assert not isinstance(caught.value, TransientError), "a command timeout must not be retried blindly"
    time.sleep(0.5)  # let the killed processes be reaped
    assert remote_processes("sleep 3171") == [] and remote_processes("sleep 3172") == []


def test_an_idle_command_is_killed_after_the_idle_timeout(ssh_host):
    # 3 s without output, where the command's own timeout is 300 s: a busy machine may take a second or two
    # to start the shell, which an idle timeout of 1 s once took for idleness.
    result = run(ssh_host, ["sh", "-c", "echo started; sleep 3173"], timeout=300, idle_timeout=3, check=False)
    assert result.status == "timeout" and result.stdout == "started"
    assert result.duration < 100
    time.sleep(0.5)
    assert remote_processes("sleep 3173") == []


def test_a_missing_command_is_command_not_found_and_permanent(ssh_host):
    with pytest.raises(CommandNotFound) as caught:
        run(ssh_host, ["openstack-no-such-command", "undercloud", "install"])
    assert "openstack-no-such-command" in str(caught.value)
    assert not isinstance(caught.value, TransientError)


def test_secret_arguments_are_sent_but_recorded_masked(ssh_host):
    lines: list[str] = []
    result = run(ssh_host, ["echo", SecretStr("s3cr3t-pass"), "done"], on_line=lambda _, line: lines.append(line))
    assert result.argv == ["echo", "**********", "done"]
    assert result.stdout == "********** done" and lines == ["********** done"]
    assert "s3cr3t-pass" not in result.model_dump_json()


def test_one_connection_serves_every_command_to_a_host(ssh_host, sshd):
    POOL.discard(ssh_host)
    before = sshd.log_file.read_text().count("Accepted publickey")
    transport = None
    for word in ("one", "two", "three"):
        assert run(ssh_host, ["echo", word]).stdout == word
        transport = transport or POOL.client(ssh_host).get_transport()
        assert POOL.client(ssh_host).get_transport() is transport
    assert sshd.log_file.read_text().count("Accepted publickey") - before == 1


def test_an_unknown_host_key_is_refused_by_default(sshd, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"known_hosts"}), known_hosts=empty)
    with pytest.raises(HostKeyUnknown) as caught:
        connect(host)
    assert "not in known_hosts; refusing to connect" in str(caught.value)
    assert any(line.startswith("offered: ssh-ed25519 SHA256:") for line in caught.value.evidence)
    assert "ssh-keyscan" in caught.value.hint
    assert not isinstance(caught.value, TransientError)


def test_trust_on_first_use_records_the_key_then_verifies_it(sshd, tmp_path):
    known = tmp_path / "fresh" / "known_hosts"
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"known_hosts", "host_key_policy"}),
                   known_hosts=known, host_key_policy="trust-on-first-use")
    connect(host).close()
    assert known.read_text().split() == [f"[127.0.0.1]:{sshd.port}", "ssh-ed25519", sshd.host_public_key]
    verifying = host.model_copy(update={"host_key_policy": "verify"})
    connect(verifying).close()


def test_a_changed_host_key_is_refused_even_under_trust_on_first_use(sshd, tmp_path):
    other = tmp_path / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {(tmp_path / 'other_key.pub').read_text()}")
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"known_hosts", "host_key_policy"}),
                   known_hosts=known, host_key_policy="trust-on-first-use")
    with pytest.raises(HostKeyMismatch) as caught:
        connect(host)
    assert "does not match known_hosts" in str(caught.value)
    assert known.read_text().count("ssh-ed25519") == 1, "the recorded key must not be replaced"


def test_a_key_the_server_does_not_accept_is_an_authentication_failure(sshd, tmp_path):
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"private_key_file"}), private_key_file=stranger)
    with pytest.raises(SSHAuthenticationFailed) as caught:
        connect(host)
    assert not isinstance(caught.value, TransientError)


def test_an_unreadable_key_file_names_the_file(sshd, tmp_path):
    garbage = tmp_path / "id_garbage"
    garbage.write_text("this is not a key\n")
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"private_key_file"}), private_key_file=garbage)
    with pytest.raises(SSHAuthenticationFailed, match=f"cannot read the private key .* from {garbage}"):
        connect(host)


def test_a_refused_connection_is_transient(sshd):
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"port"}), port=free_port())
    with pytest.raises(SSHConnectFailed) as caught:
        connect(host)
    assert isinstance(caught.value, TransientError)


def test_the_key_can_be_given_as_secret_text(sshd):
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"private_key_file"}),
                   private_key=SecretStr(sshd.client_key_file.read_text()))
    assert run(host, ["echo", "in"]).stdout == "in"


def test_files_travel_both_ways_by_sftp_with_their_checksum(ssh_host, tmp_path):
    local = tmp_path / "undercloud.conf"
    local.write_text("[DEFAULT]\nlocal_ip = 192.168.24.1/24\n")
    remote = str(tmp_path / "remote-copy.conf")
    sent = put(ssh_host, local, remote, mode=0o600)
    assert Path(remote).read_text() == local.read_text() and Path(remote).stat().st_mode & 0o777 == 0o600
    back = get(ssh_host, remote, tmp_path / "back" / "undercloud.conf")
    assert back.sha256 == sent.sha256 and back.size == local.stat().st_size
    assert not Path(remote + ".rdoflow-partial").exists()


def test_a_missing_remote_file_is_a_clear_error(ssh_host, tmp_path):
    with pytest.raises(RemoteFileNotFound, match="no such file or directory: /nonexistent/stackrc"):
        get(ssh_host, "/nonexistent/stackrc", tmp_path / "stackrc")


def test_stdin_reaches_the_command_and_is_then_closed(ssh_host):
    assert run(ssh_host, ["cat"], stdin="line one\nline two\n").stdout == "line one\nline two"


def test_extra_secrets_are_masked_in_the_output(ssh_host):
    overcloudrc = "export OS_USERNAME=admin\nexport OS_PASSWORD=Adm1nPa55word\n"
    result = run(ssh_host, ["cat"], stdin=overcloudrc, redact=["Adm1nPa55word"])
    assert result.stdout == "export OS_USERNAME=admin\nexport OS_PASSWORD=**********"


def test_only_the_last_lines_are_kept_and_the_rest_counted(ssh_host):
    result = run(ssh_host, ["seq", "1", "50"], keep_lines=10, log_output=False)
    assert result.stdout.splitlines() == [str(n) for n in range(41, 51)] and result.dropped_lines == 40


@pytest.mark.parametrize("source", ["private_key_file", "private_key"])
def test_the_login_key_is_masked_in_the_output_however_it_was_given(sshd, source):
    key_text = sshd.client_key_file.read_text()
    host = SSHHost(**sshd.endpoint().model_dump(exclude={"private_key_file"}),
                   **({"private_key": SecretStr(key_text)} if source == "private_key"
                      else {"private_key_file": sshd.client_key_file}))
    result = run(host, ["cat", str(sshd.client_key_file)])
    assert result.stdout.splitlines()[1] == "**********" and key_text.splitlines()[1] not in result.stdout
