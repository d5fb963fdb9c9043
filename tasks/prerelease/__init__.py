"""The prerelease domain: which DLRN drop a promotion link points at, and starting the pipeline for it."""
