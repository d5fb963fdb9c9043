"""The review domain: package review of specs, SRPMs and distgit directories (static or fedora-review)."""
