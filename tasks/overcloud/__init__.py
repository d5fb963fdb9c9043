"""The overcloud domain: the deploy and upgrade commands, their Heat stack, and why a step failed."""
