"""A module lab made ready for the overcloud by the pipeline's own first stages: the undercloud
bootstrapped and every instackenv node introspected and available."""

from __future__ import annotations

from pathlib import Path

from rdoflow.config.site import SiteConfig, load_site


def ready_undercloud(lab) -> SiteConfig:
    """Run undercloud-bootstrap and node-introspection on the lab (a Prefect server must be up);
    the lab's site config."""
    from rdoflow.flows.node_introspection import node_introspection
    from rdoflow.flows.undercloud_bootstrap import undercloud_bootstrap

    site = load_site(Path(lab.dir) / "site.yaml")
    undercloud_bootstrap(site=site)
    node_introspection(site=site)
    return site


def with_stack(site: SiteConfig, stack: str, controllers: int, computes: int) -> SiteConfig:
    """The site with its overcloud renamed and sized: each test deploys a stack of its own."""
    overcloud = site.overcloud.model_copy(update={"stack": stack,
                                                  "roles": {"Controller": controllers, "Compute": computes}})
    return site.model_copy(update={"overcloud": overcloud})
