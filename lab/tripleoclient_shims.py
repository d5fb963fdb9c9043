"""What 2022-era tripleo-common and openstack.cloud need of openstacksdk 4.x, in the real client's venv.

Copied into that venv's site-packages and imported by a .pth at every start of its
Python (lab/tripleoclient_venv.py), so it imports nothing at start: each change is
made when the module it changes is first imported.

- ``openstack.version`` is imported with ``openstack``: openstack.cloud 2.2 (ansible
  8.7.0) reads ``openstack.version.__version__``, which 4.x no longer imports itself.
- A service the cloud has no endpoint for raises keystoneauth's ``EndpointNotFound``
  again, as older SDKs did (4.x: an ``AssertionError``, or ``ServiceDisabledException``
  from the proxy shim): tripleo-common catches it ("Neutron service not installed") and
  goes on.

Runs in the real client's venv: it imports no rdoflow and nothing of the lab.
"""

import importlib.abc
import importlib.util
import sys


def _after_openstack(module):
    importlib.import_module("openstack.version")


def _after_cloud_region(module):
    from keystoneauth1 import exceptions

    original = module.CloudRegion._get_endpoint_from_catalog

    def _get_endpoint_from_catalog(self, service_type, constructor):
        try:
            return original(self, service_type, constructor)
        except AssertionError:
            raise exceptions.EndpointNotFound(f"no endpoint for the {service_type} service") from None

    module.CloudRegion._get_endpoint_from_catalog = _get_endpoint_from_catalog


def _after_service_description(module):
    from keystoneauth1 import exceptions

    def __getattr__(self, item):
        raise exceptions.EndpointNotFound(f"no endpoint for the {self.service_type} service ({self.reason or ''})")

    module._ServiceDisabledProxyShim.__getattr__ = __getattr__


AFTER = {
    "openstack": _after_openstack,
    "openstack.config.cloud_region": _after_cloud_region,
    "openstack.service_description": _after_service_description,
}


class _Loader(importlib.abc.Loader):
    def __init__(self, loader, then):
        self.loader, self.then = loader, then

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.then(module)

    def __getattr__(self, name):  # get_data, get_resource_reader, is_package...: the real loader's
        return getattr(self.loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        then = AFTER.get(name)
        if then is None:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _Loader(spec.loader, then)
                return spec
        return None


if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
    sys.meta_path.insert(0, _Finder())
