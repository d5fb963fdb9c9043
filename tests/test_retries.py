"""Which failures are retried: the errors real OpenStack clients raise against a real HTTP server on
127.0.0.1 that answers with the status each test asks for, or against a port where nothing listens."""

from __future__ import annotations

import pytest
import requests
from heatclient import client as heat_client
from keystoneauth1 import session as ksa_session
from openstack import exceptions as sdk_exc

from rdoflow.errors import ConfigError, ResourceFailed, StageTimeout
from rdoflow.lab.sshd import free_ports
from rdoflow.tasks.prerelease.dlrn import DropServerUnavailable
from rdoflow.tasks.retries import is_transient
from rdoflow.tasks.ssh.connect import SSHConnectionLost
from tests.loopback_http import answering


def _keystoneauth_error(url: str) -> Exception:
    with pytest.raises(Exception) as caught:
        ksa_session.Session().get(url + "/v1/nodes", raise_exc=True)
    return caught.value


def _openstacksdk_error(url: str) -> Exception:
    with pytest.raises(sdk_exc.SDKException) as caught:
        sdk_exc.raise_from_response(requests.get(url + "/v1/nodes", timeout=10))
    return caught.value


def _heatclient_error(url: str) -> Exception:
    heat = heat_client.Client("1", session=ksa_session.Session(), endpoint_override=url + "/v1/admin")
    with pytest.raises(Exception) as caught:
        list(heat.stacks.list())
    return caught.value


@pytest.mark.parametrize("client", [_keystoneauth_error, _openstacksdk_error, _heatclient_error])
@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_api_that_fails_on_its_side_is_retried(client, status):
    with answering(status) as url:
        assert is_transient(client(url))


@pytest.mark.parametrize("client", [_keystoneauth_error, _openstacksdk_error, _heatclient_error])
@pytest.mark.parametrize("status", [400, 404, 409])
def test_an_api_that_refuses_the_request_is_not_retried(client, status):
    with answering(status) as url:
        assert not is_transient(client(url))


@pytest.mark.parametrize("client", [_keystoneauth_error, _heatclient_error])
def test_an_api_nobody_listens_on_is_retried(client):
    assert is_transient(client(f"http://127.0.0.1:{free_ports(1)[0]}"))


def test_rdoflow_s_own_transient_conditions_are_retried_and_the_others_not():
    assert is_transient(SSHConnectionLost("session dropped"))
    assert is_transient(DropServerUnavailable("http://dlrn/: HTTP 503"))
    for final in (StageTimeout("stack overcloud did not become CREATE_COMPLETE"), ResourceFailed("stack failed"),
                  ConfigError("site.yaml", ["name: expected a string"]), ValueError("a bug"), None):
        assert not is_transient(final)
