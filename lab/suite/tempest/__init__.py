"""The lab's regression suite, run with ``stestr run`` in ~/tempest on the lab host.

Two parts: real checks of the lab cloud (``tempest.lab``), and generated
Tempest-like tests (``tempest.api.*``) whose count and outcomes come from the
lab's knobs, so a 1,300-test run can be rehearsed in seconds.
"""
