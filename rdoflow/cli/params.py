"""A flow's parameters from the command line: ``--site FILE`` and ``--param key=value``, checked against the
flow's own signature before it runs; and running a flow in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rdoflow.config.site import load_site
from rdoflow.config.yamlsource import parse_yaml
from rdoflow.errors import ConfigError
from rdoflow.flows.catalog import load_flow


def parse_params(pairs: list[str]) -> dict[str, str]:
    """``key=value`` pairs as given on the command line (values still text)."""
    params, problems = {}, []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            problems.append(f"--param {pair!r}: expected key=value, e.g. --param refresh=true")
        else:
            params[key.strip()] = value
    if problems:
        raise ConfigError("--param", problems)
    return params


def _takes_text(schema: dict) -> bool:
    kinds = [schema.get("type")] + [option.get("type") for option in schema.get("anyOf", [])]
    return "string" in kinds and not any(kind in ("array", "object", "boolean", "integer", "number")
                                         for kind in kinds)


def flow_parameters(flow: Any, name: str, site_file: Path | None, report_dir: Path,
                    given: dict[str, str], typed: dict[str, Any] | None = None) -> dict[str, Any]:
    """The flow's parameters from the site file, ``--param`` values and ``typed`` ones (already values),
    checked against its signature.

    A value is passed as text to a text parameter and read as YAML otherwise (``true``, ``3``,
    ``[a, b]``, ``{k: v}``). A flow whose site is optional (``nightly``: the built-in lab) runs without
    one. Raises ConfigError naming each unknown or invalid parameter.
    """
    from prefect.exceptions import ParameterTypeError
    from prefect.utilities.callables import parameter_schema

    full = parameter_schema(flow).model_dump()
    schema = full["properties"]
    problems = [f"--param {key}: flow {name} has no such parameter; it takes: {', '.join(schema)}"
                for key in given if key not in schema or key == "site"]
    parameters: dict[str, Any] = dict(typed or {})  # what --param gives wins
    for key, text in given.items():
        if key in schema and key != "site":
            try:  # the reader of the site files: a value is small, but aliases in it are bounded all the same
                parameters[key] = text if _takes_text(schema[key]) else parse_yaml(text, f"--param {key}").data
            except ConfigError as exc:
                problems += exc.problems
    if "site" in schema:
        if site_file is not None:
            parameters["site"] = load_site(site_file)
        elif "site" in (full.get("required") or []):
            problems.append(f"flow {name} needs a site: give --site FILE")
    elif site_file is not None:
        problems.append(f"--site: flow {name} takes no site; its parameters are: {', '.join(schema)}")
    if "report_dir" in schema:
        parameters.setdefault("report_dir", str(report_dir) if _takes_text(schema["report_dir"]) else report_dir)
    if problems:
        raise ConfigError("parameters", problems)
    try:
        flow.validate_parameters(parameters)
    except ParameterTypeError as exc:
        raise ConfigError("parameters", [f"flow {name}: {line}" for line in str(exc).splitlines() if line.strip()],
                          hint=f"see its parameters with 'rdoflow params {name}'") from exc
    return parameters


def run_flow(name: str, site_file: Path | None, report_dir: Path, params: dict[str, str] | None = None,
             typed: dict[str, Any] | None = None) -> Any:
    """Check the site file and parameters, then run the flow in this process (ephemeral Prefect unless
    PREFECT_API_URL is set).

    Raises ConfigError for bad input, and whatever the flow raises when a stage fails.
    """
    from rdoflow.cli.prefect_api import start_temporary_server

    flow = load_flow(name)
    parameters = flow_parameters(flow, name, site_file, report_dir, params or {}, typed)
    start_temporary_server()
    return flow(**parameters)
