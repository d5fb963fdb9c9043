"""The HTML report in a real browser: headless Chromium (Debian's chromium package, installed by .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.cli_runner import rdoflow

FIXTURES = Path(__file__).parent / "fixtures" / "tempest"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# As root Chromium needs --no-sandbox; the network flags keep it from calling home on a closed network.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--enable-logging=stderr", "--v=0"]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed: .ci/run installs it")


def chromium(page: Path, *action: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *action, page.as_uri()],
                              capture_output=True, text=True, timeout=120)


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_the_console_check_sees_a_page_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>console.error('broken page'); undefinedCall();</script></body></html>")
    assert console_errors(chromium(page, "--dump-dom").stderr)


def test_the_report_renders_with_its_regressions_and_no_console_error(tmp_path):

    html = tmp_path / "report.html"
    result = rdoflow("compare", str(FIXTURES / "tacker-stestr-60"), str(FIXTURES / "tacker-stestr-12"),
                                      "--store", str(tmp_path / "store"), "--reports", str(tmp_path), "--html", str(html))
    assert result.exit_code == 1
    dump = chromium(html, "--dump-dom")
    assert dump.returncode == 0
    assert console_errors(dump.stderr) == []
    dom = dump.stdout
    assert dom.count('<tr class="regression">') == 3
    assert "test_deregister_vim_barbican" in dom and "Verdict: FAIL" in dom
    assert 'id="status-chart"' in dom and 'id="duration-chart"' in dom
    shot = tmp_path / "report.png"
    chromium(html, f"--screenshot={shot}", "--window-size=1280,1600")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_the_handover_page_renders_each_area_and_its_failures_with_no_console_error(tmp_path):
    html = tmp_path / "handover.html"
    result = rdoflow("results", "handover", str(FIXTURES / "fuelccp-tempest.xml"), "--html", str(html),
                     "--reports", str(tmp_path))
    assert result.exit_code == 0, result.output
    dump = chromium(html, "--dump-dom")
    assert dump.returncode == 0 and console_errors(dump.stderr) == []
    dom = dump.stdout
    assert dom.count('<tr class="fail">') == 4 and dom.count('<tr class="pass">') == 1
    assert dom.count('<table class="failed">') == 4 and "Handover: 4 of 7 areas failed" in dom
