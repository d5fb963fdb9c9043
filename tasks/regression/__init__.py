"""The regression domain: running a suite (Tempest, Rally, scripts) on the undercloud and storing its run."""
