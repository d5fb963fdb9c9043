"""rdoflow: Prefect 3 flows for the lifecycle CI of an RDO/TripleO OpenStack cloud."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rdoflow")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
