"""Writing generated records as S3 trees, the command line, and the live scripts."""

from __future__ import annotations

import re
import shutil
import subprocess

import pandas as pd
import pytest

from helpers import flowlogs, traffic
from helpers.errors import FlowLogFormatError, TrafficError
from helpers.traffic import cli

NAME = re.compile(r"123456789012_vpcflowlogs_ap-northeast-2_fl-0a1b2c3d4e5f60000_"
                  r"\d{8}T\d{4}Z_[0-9a-f]{8}\.log\.(parquet|gz)")


@pytest.fixture(scope="module")
def two_days():
    return traffic.generate(["web_baseline", "port_scan_inbound"], seed=1, duration="27h",
                            start="2021-12-20T22:00:00Z")


def _sorted(df):
    keys = ["start", "interface_id", "srcaddr", "dstaddr", "srcport", "dstport"]
    return df.sort_values(keys, ignore_index=True)


def test_hive_hourly_parquet_tree_reads_back_with_partition_columns(two_days, tmp_path):
    paths = flowlogs.write_tree(two_days, tmp_path, hive=True, per_hour=True)
    assert len(paths) == 27 and all(NAME.fullmatch(p.name) for p in paths)
    back = flowlogs.read(tmp_path)
    assert len(back) == len(two_days)
    assert list(back.columns[-7:]) == list(flowlogs.PARTITION_COLUMNS)
    assert set(back.day) == {"20", "21", "22"} and back.hour.nunique() == 24
    assert set(back.aws_service) == {"vpcflowlogs"}
    hours = pd.to_datetime(back.start.astype("int64"), unit="s", utc=True).dt.strftime("%H")
    assert (hours == back.hour.astype(str)).all()
    pd.testing.assert_frame_equal(_sorted(back[list(traffic.COLUMNS)]),
                                  _sorted(two_days.drop(columns="label")))


def test_plain_daily_text_tree_reads_back(two_days, tmp_path):
    paths = flowlogs.write_tree(two_days, tmp_path, file_format="plain-text", hive=False)
    assert [p.parent.relative_to(tmp_path).as_posix() for p in paths] == [
        f"AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2021/12/{d}" for d in (20, 21, 22)]
    back = flowlogs.read(tmp_path)
    assert len(back) == len(two_days) and "hour" not in back.columns
    assert set(back.year) == {"2021"}


def test_the_same_records_give_the_same_tree(two_days, tmp_path):
    first = flowlogs.write_tree(two_days, tmp_path / "a", per_hour=True)
    second = flowlogs.write_tree(two_days, tmp_path / "b", per_hour=True)
    assert [p.relative_to(tmp_path / "a") for p in first] == \
        [p.relative_to(tmp_path / "b") for p in second]


def test_text_files_carry_a_header_line(two_days, tmp_path):
    import gzip

    path = flowlogs.write_tree(two_days.head(100), tmp_path, file_format="plain-text")[0]
    header = gzip.open(path, "rt").readline().split()
    assert header == [c.replace("_", "-") for c in traffic.COLUMNS]


def test_write_tree_rejects_an_unknown_format(two_days, tmp_path):
    with pytest.raises(FlowLogFormatError, match="file_format must be 'parquet' or 'plain-text'"):
        flowlogs.write_tree(two_days, tmp_path, file_format="csv")


def test_write_tree_needs_the_partition_columns(two_days, tmp_path):
    with pytest.raises(FlowLogFormatError, match="every record needs region"):
        flowlogs.write_tree(two_days.drop(columns="region"), tmp_path)


def test_the_command_line_writes_a_hive_tree(tmp_path, capsys):
    code = cli.main(["--seed", "1", "--duration", "2h", "--scenarios",
                     "web_baseline,port_scan_inbound", "--format", "parquet", "--out",
                     str(tmp_path), "--hive", "--per-hour"])
    assert code == 0
    out = capsys.readouterr().out
    assert "wrote 2 files under" in out
    back = flowlogs.read(tmp_path)
    expected = traffic.generate(["web_baseline", "port_scan_inbound"], seed=1, duration="2h")
    assert len(back) == len(expected) and set(back.hour) == {"00", "01"}


def test_the_command_line_writes_one_file(tmp_path, capsys):
    assert cli.main(["--duration", "10m", "--out", str(tmp_path / "lab.log.gz")]) == 0
    assert len(flowlogs.read(tmp_path / "lab.log.gz")) == len(traffic.generate(duration="10m"))


def test_the_command_line_reports_an_unknown_scenario(tmp_path, capsys):
    assert cli.main(["--scenarios", "ddoss", "--out", str(tmp_path)]) == 2
    assert "did you mean 'ddos'?" in capsys.readouterr().err


def test_the_command_line_lists_the_scenarios(capsys):
    assert cli.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in traffic.SCENARIOS)


@pytest.mark.parametrize("name, commands", [
    ("normal", ["curl", "http://httpbin.org/ip", "ping -c", "8.8.8.8", "ssh"]),
    ("blocked", ["telnet", "3306", "nc -zv -w", "timeout"]),
    ("bulk", ["releases.ubuntu.com", "--max-time", "BULK_MAX_BYTES"]),
])
def test_live_scripts_run_the_lessons_commands(name, commands):
    text = traffic.live_script(name)
    assert text.startswith("#!/usr/bin/env bash\n")
    assert all(c in text for c in commands)
    assert "while " not in text and "AWS_SECRET" not in text


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize("name", sorted(traffic.SCRIPTS))
def test_live_scripts_are_valid_bash(name):
    result = subprocess.run(["bash", "-n"], input=traffic.live_script(name), text=True,
                            capture_output=True, check=False)
    assert result.returncode == 0, result.stderr


def test_an_unknown_live_script_suggests_a_name():
    with pytest.raises(TrafficError, match="unknown live script 'blocke'; did you mean "
                                           "'blocked'"):
        traffic.live_script("blocke")
