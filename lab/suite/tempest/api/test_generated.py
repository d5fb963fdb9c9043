"""Generated Tempest-like tests: ids, tags and outcomes set by the lab's ``suite`` knobs.

Test ``i`` belongs to one of Tempest's service areas and carries an idempotent
id derived from its name, so the same test has the same id in every run. Which
tests fail or skip is chosen by spreading the counts evenly over the suite, so
the choice is the same in every run; ``faults.fail_after_upgrade`` adds
failures once the overcloud upgrade has converged.
"""

import re
import time
import uuid

import testtools

from tempest import lab_state

AREAS = (
    ("compute.servers", "Servers", ("create_server", "list_servers", "reboot_server", "resize_server")),
    ("network", "Networks", ("create_network", "update_port", "list_subnets", "create_router")),
    ("volume", "Volumes", ("create_volume", "attach_volume", "extend_volume", "snapshot_volume")),
    ("image", "Images", ("upload_image", "list_images", "update_image", "deactivate_image")),
    ("identity.admin", "Users", ("create_user", "list_projects", "assign_role", "list_domains")),
    ("orchestration.stacks", "Stacks", ("create_stack", "update_stack", "list_resources", "show_outputs")),
    ("baremetal.admin", "Nodes", ("list_nodes", "show_node", "set_maintenance", "list_ports")),
    ("object_storage", "Containers", ("create_container", "list_objects", "copy_object", "delete_object")),
)
NAMESPACE = uuid.UUID("0b0ed1a5-4a0c-4e9b-9d7e-2f3c6a5b8e10")
TRACEBACK = """Traceback (most recent call last):
  File "tempest/api/{area}/test_{noun}.py", line {line}, in {method}
    self.assertEqual(expected, observed)
  File "testtools/testcase.py", line 395, in assertEqual
    self.assertThat(observed, matcher, message)
testtools.matchers._impl.MismatchError: {detail}"""


def _spread(count: int, total: int) -> set[int]:
    """``count`` indices spread evenly over ``range(total)``."""
    return {round(k * total / count) for k in range(count)} if count and total else set()


def _chosen(suite: dict) -> tuple[set[int], set[int]]:
    """The indices of the failing tests, and of the skipped ones among the others."""
    total = suite.get("generated", 100)
    failing = _spread(min(suite.get("failing", 0), total), total)
    others = [i for i in range(total) if i not in failing]
    skipped = {others[j] for j in _spread(min(suite.get("skipped", 3), len(others)), len(others))}
    return failing, skipped


def _outcome(index: int, test_id: str, chosen: tuple[set[int], set[int]], after_upgrade: list[str]):
    failing, skipped = chosen
    if index in failing or any(re.search(pattern, test_id) for pattern in after_upgrade):
        return "fail", f"'ACTIVE' != 'ERROR': Server {uuid.uuid5(NAMESPACE, test_id)} failed to reach ACTIVE"
    if index in skipped:
        return "skip", "Feature not enabled in this deployment"
    return "pass", ""


def _make_test(index: int, suite: dict, chosen, after_upgrade: list[str]) -> testtools.TestCase:
    area, noun, verbs = AREAS[index % len(AREAS)]
    verb = verbs[(index // len(AREAS)) % len(verbs)]
    module = f"tempest.api.{area}.test_{noun.lower()}_{index // 40:03d}"
    method = f"test_{verb}_{index:04d}"
    idempotent = uuid.uuid5(NAMESPACE, f"{module}.{method}")
    tags = [f"id-{idempotent}"] + (["smoke"] if index % 10 == 0 else [])
    plain_id = f"{module}.{noun}TestJSON.{method}"
    outcome, detail = _outcome(index, plain_id, chosen, after_upgrade)
    seconds = suite.get("seconds", 0.0)

    def body(self):
        time.sleep(seconds)
        if outcome == "skip":
            self.skipTest(detail)
        if outcome == "fail":
            self.fail(TRACEBACK.format(area=area.replace(".", "/"), noun=noun.lower(), line=40 + index % 200,
                                       method=method, detail=detail))

    body.__name__ = method
    body = testtools.testcase.attr(*tags)(body)
    cls = type(f"{noun}TestJSON", (testtools.testcase.WithAttributes, testtools.TestCase), {method: body})
    cls.__module__ = module
    return cls(method)


def load_tests(loader, standard_tests, pattern):
    knobs = lab_state.knobs()
    suite = knobs.get("suite", {})
    after_upgrade = knobs.get("faults", {}).get("fail_after_upgrade", []) if lab_state.upgraded() else []
    chosen = _chosen(suite)
    standard_tests.addTests(_make_test(i, suite, chosen, after_upgrade) for i in range(suite.get("generated", 100)))
    return standard_tests
