"""The ssh domain: remote commands and file transfer on an SSH host (paramiko), with verified host keys."""
