"""undercloud.conf: rendered from a site's settings with Jinja2, and compared with the host's by key name.

The rendered text depends on the site's settings only (no time stamp), so that its sha256 says
whether the undercloud already runs this configuration.
"""

from __future__ import annotations

import configparser
import hashlib
import re
from pathlib import Path

import jinja2

from rdoflow.config.site import SiteConfig
from rdoflow.config.yamlsource import shown
from rdoflow.errors import ConfigError
from rdoflow.tasks.undercloud.model import ConfChanges, RenderedConf

CONF_FILE = "undercloud.conf"
# oslo.config option and group names; anything else would not read back as the same key.
NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# A section that never occurs, so that [DEFAULT] parses as a section of its own, not as defaults.
_NO_DEFAULTS = "\0rdoflow-no-defaults"


def ini_value(value: str | int | float | bool) -> str:
    """A site value as undercloud.conf writes it: true/false for booleans, numbers and strings as they are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # an INI file, not HTML
)
TEMPLATES.filters["ini"] = ini_value


def _problems(site: SiteConfig) -> list[str]:
    problems = []
    for section, settings in site.undercloud.conf.items():
        if not NAME.match(section):
            problems.append(f"undercloud.conf: section {section!r}: expected letters, digits, '_', '.' or '-'")
        for key, value in settings.items():
            where = f"undercloud.conf.{section}.{key}"
            if not NAME.match(key):
                problems.append(f"{where}: expected an option name of letters, digits, '_', '.' or '-'")
            if isinstance(value, str) and ("\n" in value or "\r" in value):
                problems.append(f"{where}: expected a value on one line, got {shown(value)}")
    return problems


def render_conf(site: SiteConfig) -> RenderedConf:
    """undercloud.conf for ``site``: [DEFAULT] first, then the other sections in the site's order.

    Raises ConfigError naming each section or key that would not read back as written.
    """
    problems = _problems(site)
    if problems:
        raise ConfigError(f"site {site.name!r}", problems,
                          hint="fix the undercloud.conf settings in the site config")
    conf = site.undercloud.conf
    ordered = ["DEFAULT", *(name for name in conf if name != "DEFAULT")]
    sections = [(name, list(conf.get(name, {}).items())) for name in ordered]
    text = TEMPLATES.get_template("undercloud.conf.j2").render(site=site.name, sections=sections)
    return RenderedConf(site=site.name, text=text, sha256=hashlib.sha256(text.encode()).hexdigest())


def ini_settings(text: str) -> dict[str, str] | None:
    """'section.key' -> value; None when the text is not INI. Values may be secrets on a hand-made
    file: they are compared here and never leave this module."""
    parser = configparser.ConfigParser(interpolation=None, default_section=_NO_DEFAULTS, strict=False)
    parser.optionxform = str  # keep the keys' case, as oslo.config does
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return {f"{section}.{key}": value for section in parser.sections() for key, value in parser.items(section, raw=True)}


def compare_confs(before_text: str, after_text: str) -> ConfChanges:
    """Which keys differ from ``before_text`` (the host's file) to ``after_text`` (the rendered one): names only."""
    before, after = ini_settings(before_text), ini_settings(after_text) or {}
    if before is None:
        return ConfChanges(unreadable=True)
    return ConfChanges(
        added=sorted(after.keys() - before.keys()),
        removed=sorted(before.keys() - after.keys()),
        changed=sorted(key for key in after.keys() & before.keys() if after[key] != before[key]),
    )
