"""The prerelease domain: which DLRN drop a promotion link points at, starting the pipeline for it, and
applying it to a site (its packages, its container images, then the overcloud's update or upgrade)."""
