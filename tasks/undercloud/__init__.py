"""The undercloud domain: preflight, undercloud.conf, `openstack undercloud install`, and its verification."""
