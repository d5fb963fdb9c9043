"""Real checks of the lab cloud: the APIs answer, the deployed nodes are active, the stack is complete."""

import requests
import testtools
from heatclient import client as heat_client

from tempest import lab_state

STACK = "overcloud"


class UndercloudAPITest(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = lab_state.cloud()

    def test_baremetal_api_answers(self):
        answer = requests.get(self.cloud["baremetal_endpoint_override"] + "/v1", timeout=10)
        self.assertEqual(200, answer.status_code)
        self.assertIn("nodes", answer.json())

    def test_orchestration_api_answers(self):
        answer = requests.get(self.cloud["orchestration_endpoint_override"] + "/stacks", timeout=10)
        self.assertEqual(200, answer.status_code)


class OvercloudTest(testtools.TestCase):
    def setUp(self):
        super().setUp()
        self.cloud = lab_state.cloud()
        self.heat = heat_client.Client("1", endpoint=self.cloud["orchestration_endpoint_override"], token="lab")

    def test_stack_complete(self):
        stack = self.heat.stacks.get(STACK)
        self.assertIn(stack.stack_status, ("CREATE_COMPLETE", "UPDATE_COMPLETE"), stack.stack_status_reason)

    def test_stack_outputs_present(self):
        outputs = {o["output_key"]: o for o in self.heat.stacks.get(STACK).outputs}
        self.assertTrue(outputs["KeystoneURL"]["output_value"].startswith("https://"))
        self.assertTrue(outputs["ControllerHostnames"]["output_value"])

    def test_deployed_nodes_active(self):
        answer = requests.get(self.cloud["baremetal_endpoint_override"] + "/v1/nodes",
                              params={"fields": "name,provision_state,instance_info"},
                              headers={"X-OpenStack-Ironic-API-Version": "1.84"}, timeout=10)
        nodes = [n for n in answer.json()["nodes"]
                 if (n["instance_info"] or {}).get("display_name", "").startswith(f"{STACK}-")]
        self.assertTrue(nodes, "no node was deployed")
        inactive = [f"{n['name']}: {n['provision_state']}" for n in nodes if n["provision_state"] != "active"]
        self.assertEqual([], inactive)
