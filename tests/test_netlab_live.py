"""The live lab on this machine: real namespaces, nftables and packets (root, Linux, nft).

Skipped with the reason where the lab cannot run (see ``tests/conftest.py``); CI runs as root
and installs nftables, so there they run. One lab runs every scenario once for the module.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import detect, flowlogs, insights, netlab
from helpers.netlab import system
from helpers.queries import load, names

ROOT = Path(__file__).resolve().parents[1]


def _host_state() -> tuple[list[str], str, str]:
    """Lab namespaces, the host's links and the host's nftables tables."""
    links = system.run("ip", "-o", "link", "show")
    tables = system.run("nft", "list", "tables", check=False)
    return system.lab_namespaces(), links, tables


@pytest.fixture(scope="module")
def host_before():
    return _host_state()


@pytest.fixture(scope="module")
def lab(host_before):
    with netlab.Lab(interval=60) as lab:
        lab.run_scenario("all")
    return lab


@pytest.fixture(scope="module")
def live(lab):
    return lab.records(explain=True)


def test_every_connection_agrees_with_the_rule_evaluator(live):
    table = netlab.agreement(live)
    summary = netlab.agreement_summary(table)
    print(summary.to_string(index=False))
    assert table["agree"].all(), table[~table["agree"]].to_string()
    assert {"ACCEPT", "REJECT"} <= set(table["kernel"])
    labels = {command for _, command in netlab.SCENARIOS["all"][1]}
    assert labels == set(table["label"])


def test_packets_and_bytes_add_up_to_the_interface_counters(lab):
    table = lab.counter_check()
    print(table.to_string(index=False))
    assert table["match"].all(), table.to_string()
    assert (table["capture_drops"] == 0).all()


def test_the_live_actions_are_the_predicted_ones(live):
    live_actions = live[live["log_status"] == "OK"].groupby(
        ["label", "flow_direction", "action"]).size()
    predicted = netlab.predict("all").groupby(["label", "flow_direction", "action"]).size()
    assert set(live_actions.index) == set(predicted.index)


def test_the_records_load_back_and_the_lessons_queries_run(live, tmp_path):
    path = flowlogs.write_text(live, tmp_path / "live.log")
    back = flowlogs.read(path)
    assert len(back) == len(live)
    rejected = insights.run(load("rejected_connections").insights, back)
    assert set(rejected["srcAddr"]) >= {"10.0.1.100", "203.0.113.66"}
    for name in names():
        insights.run(load(name).insights, back)


def test_detect_finds_the_small_scan_with_a_lowered_threshold(live):
    findings = detect.detect(live, detectors=["port_probe"],
                             port_probe_min_ports=len(netlab.SCAN_PORTS) - 2)
    assert findings[["srcaddr", "dstaddr"]].values.tolist() == [["203.0.113.66", "10.0.1.100"]]


def test_nothing_of_the_lab_remains_after_a_run(lab, host_before):
    assert not lab.running
    assert _host_state() == host_before


def _start(scenario: str, out) -> subprocess.Popen:
    """``python -m helpers.netlab run``, returned once it runs its first command."""
    proc = subprocess.Popen([sys.executable, "-m", "helpers.netlab", "run", scenario, "--out",
                             str(out)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    while line and "running" not in line:
        line = proc.stdout.readline()
    assert "running" in line
    return proc


def test_an_interrupted_run_and_cleanup_leave_nothing(host_before, tmp_path):
    with _start("all", tmp_path) as proc:
        assert system.lab_namespaces()  # the lab is up, mid-scenario
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert "interrupted" in out and proc.returncode == 130
    assert _host_state() == host_before
    # a killed run (SIGKILL: no clean-up possible) leaves namespaces; cleanup removes them
    with _start("lab2", tmp_path) as proc:
        proc.kill()
        proc.communicate()
    time.sleep(0.1)
    assert system.lab_namespaces()
    done = subprocess.run([sys.executable, "-m", "helpers.netlab", "cleanup"], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0 and "removed 6 namespace(s)" in done.stdout
    assert _host_state() == host_before
