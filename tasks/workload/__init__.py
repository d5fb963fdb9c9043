"""Across the upgrade: a workload watched throughout, and the validations run before and after it."""
