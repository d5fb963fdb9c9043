"""The baremetal domain: inventories, Ironic enrollment and introspection of the overcloud nodes."""
