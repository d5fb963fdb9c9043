"""The embedded lab: a real undercloud test bed on 127.0.0.1."""
