"""The systemd units in deploy/systemd: valid, restarted always, and confined."""

from __future__ import annotations

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNITS = ROOT / "deploy" / "systemd"
LONG_RUNNING = ["statuspage-web.service", "statuspage-worker.service", "statuspage-beat.service"]
HARDENING = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/statuspage",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "EnvironmentFile": "/etc/statuspage/statuspage.env",
}


def service(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(UNITS / name)
    return parser["Service"]


def test_the_units_pass_systemd_verification(tmp_path: Path):
    """``systemd-analyze verify`` with the install prefix pointing at this checkout."""
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/opt/statuspage", str(ROOT))
        text = text.replace("/etc/statuspage/statuspage.env", str(UNITS / "statuspage.env.example"))
        (tmp_path / unit.name).write_text(text)
    units = sorted(str(p) for p in tmp_path.iterdir() if p.suffix in (".service", ".target"))
    done = subprocess.run(
        [shutil.which("systemd-analyze") or "systemd-analyze", "verify", "--man=no", *units],
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_a_long_running_unit_is_always_restarted_and_confined(name: str):
    unit = service(name)
    assert unit["Restart"] == "always"
    assert {key: unit.get(key) for key in HARDENING} == HARDENING


def test_the_units_run_what_the_compose_file_runs():
    commands = {name: service(name)["ExecStart"].split() for name in LONG_RUNNING}
    assert commands["statuspage-web.service"][-1] == "statuspage.wsgi:app"
    assert commands["statuspage-worker.service"][1:4] == ["-A", "workers.celery_app", "worker"]
    assert commands["statuspage-beat.service"][1:4] == ["-A", "workers.celery_app", "beat"]
    assert service("statuspage-migrate.service")["ExecStart"].endswith("statuspage migrate")
