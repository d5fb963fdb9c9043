"""``openstack tripleo container image prepare`` on the lab's Train host: a STAND-IN.

Wallaby's and Zed's hosts run the real command (python-tripleoclient's ``TripleOImagePrepare``, which runs
tripleo-ansible's ``cli-container-image-prepare.yaml``): with ``push_destination: false`` it asks no
registry and writes the images environment here too (lab/tripleo/dispatch.py). Train's lab host has no
real client, so this writes what that command writes, ``--output-env-file``'s ``parameter_defaults`` of
each image parameter, for the services of the lab's roles: ``<namespace>/<name_prefix><image><name_suffix>:<tag>``
from each ``ContainerImagePrepare`` entry's ``set`` (tripleo-common's kolla_builder naming).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .console import CommandFailed, say

# Image parameters of the lab's overcloud services, and the image each names (tripleo-common's
# container-images/tripleo_containers.yaml.j2).
IMAGES = {"ContainerKeystoneImage": "keystone", "ContainerKeystoneConfigImage": "keystone",
          "ContainerHeatApiImage": "heat-api", "ContainerHeatEngineImage": "heat-engine",
          "ContainerMemcachedImage": "memcached", "ContainerNovaComputeImage": "nova-compute",
          "ContainerNovaLibvirtImage": "nova-libvirt"}


def prepare(env_files: list[str], output_env_file: str | None) -> None:
    entries = []
    for path in env_files:
        try:
            data = yaml.safe_load(Path(path).expanduser().read_text()) or {}
        except OSError as exc:
            raise CommandFailed(f"Could not open environment file {path}: {exc.strerror}") from exc
        entries += (data.get("parameter_defaults") or {}).get("ContainerImagePrepare") or []
    if not entries:
        raise CommandFailed("No ContainerImagePrepare parameter found in the environment files")
    images = {}
    for entry in entries:
        values = entry.get("set") or {}
        if "tag" not in values:
            raise CommandFailed("ContainerImagePrepare: an entry has no tag (the lab's stand-in does not read "
                                "tag_from_label from a registry)")
        for parameter, name in IMAGES.items():
            images[parameter] = (f"{values.get('namespace', 'quay.io/tripleotraincentos8')}/"
                                 f"{values.get('name_prefix', 'centos-binary-')}{name}{values.get('name_suffix', '')}"
                                 f":{values['tag']}")
    say("Prepare container images (the lab's stand-in: no registry is asked)", logger="tripleoclient.utils")
    text = yaml.safe_dump({"parameter_defaults": dict(sorted(images.items()))}, default_flow_style=False, indent=4)
    if output_env_file:
        Path(output_env_file).expanduser().write_text(text)
    else:
        print(text, end="")
