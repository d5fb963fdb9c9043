"""The deployment a drop starts in the tests: served by a real Prefect runner (``python tests/drop_probe.py``).

It stands in for the nightly pipeline, which needs an undercloud; it takes the same ``drop``
parameter and fails for a drop whose hash starts with "dead", so that both outcomes can be tested.
"""

from prefect import flow


@flow(name="drop-probe")
def drop_probe(drop: str) -> str:
    if drop.startswith("dead"):
        raise RuntimeError(f"the pipeline failed for drop {drop}")
    return drop


if __name__ == "__main__":
    drop_probe.serve(name="probe")
