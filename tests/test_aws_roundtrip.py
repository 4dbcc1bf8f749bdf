"""Delivery to the emulator and reading back: what a flow log receives is what comes back."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import aws, flowlogs, traffic
from helpers.aws import transport
from helpers.flowlogs import delivery


@pytest.fixture(scope="module")
def setup():
    cloud = aws.connect("local")
    lab = cloud.lab_vpc()
    records = traffic.generate(["web_baseline", "lab_blocked", "lab_ssh", "port_scan_inbound"],
                               topology=lab, seed=3, duration="30m")
    return cloud, lab, records


def _expected(records, flow_log, lab) -> pd.DataFrame:
    interfaces = pd.DataFrame([(e.eni_id, e.subnet_id, lab.vpc_id) for e in lab.interfaces],
                              columns=["interface_id", "subnet_id", "vpc_id"])
    chosen = delivery.as_written(delivery.captured(records, flow_log, interfaces),
                                 flow_log.log_format)
    columns = [flowlogs.field(n).column for n in flowlogs.parse_format(flow_log.log_format)]
    return _sorted(chosen[columns])


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values(list(df.columns), ignore_index=True)


def test_cloudwatch_logs_returns_exactly_what_was_delivered(setup, capsys):
    cloud, lab, records = setup
    flow_log = cloud.create_flow_log(lab.vpc_id)
    report = cloud.deliver(records, flow_logs=[flow_log])
    back = cloud.read_flow_logs(flow_log)
    assert report.loc[0, "captured"] == report.loc[0, "accepted"] == len(records)
    assert report.loc[0, "rejected"] == 0
    assert report.loc[0, "containers"] == records["interface_id"].nunique()
    pd.testing.assert_frame_equal(_sorted(back), _expected(records, flow_log, lab))
    assert cloud.log_streams(flow_log) == sorted(records["interface_id"].unique())


def test_the_version_field_is_the_flow_logs_not_the_generators(setup, capsys):
    cloud, lab, records = setup
    assert set(records["version"]) == {5}  # the generator fills every field up to version 5
    flow_log = cloud.create_flow_log(lab.vpc_id)
    assert set(cloud.read_flow_logs(flow_log)["version"]) == {2}  # the default format's


def test_event_timestamps_are_start_times(setup, capsys):
    cloud, lab, records = setup
    flow_log = cloud.create_flow_log(lab.vpc_id)
    stream = lab.interface("web").eni_id
    events = cloud.logs.get_log_events(logGroupName=flow_log.log_group, logStreamName=stream,
                                       startFromHead=True, limit=20)["events"]
    parsed = flowlogs.parse_lines([e["message"] for e in events])
    assert [e["timestamp"] for e in events] == [int(s) * 1000 for s in parsed["start"]]


def test_reject_only_flow_log_receives_only_rejects(setup, capsys):
    cloud, lab, records = setup
    flow_log = cloud.create_flow_log(lab.vpc_id, traffic_type="REJECT",
                                     log_group="/aws/vpc/flowlogs-reject")
    cloud.deliver(records, flow_logs=[flow_log])
    back = cloud.read_flow_logs(flow_log)
    assert len(back) == (records["action"] == "REJECT").sum() > 0
    assert set(back["action"]) == {"REJECT"}


def test_eni_level_flow_log_receives_only_that_interface(setup, capsys):
    cloud, lab, records = setup
    eni = lab.interface("private").eni_id
    flow_log = cloud.create_flow_log(eni, log_group="/aws/vpc/flowlogs-private")
    cloud.deliver(records, flow_logs=[flow_log])
    back = cloud.read_flow_logs(flow_log)
    assert set(back["interface_id"]) == {eni}
    assert len(back) == (records["interface_id"] == eni).sum()


@pytest.mark.parametrize("file_format", ["plain-text", "parquet"])
@pytest.mark.parametrize("hive, per_hour", [(False, False), (True, True)])
def test_s3_returns_exactly_what_was_delivered(setup, capsys, file_format, hive, per_hour):
    cloud, lab, records = setup
    bucket = cloud.ensure_bucket(suffix=f"{file_format}-{hive}".lower())
    flow_log = cloud.create_flow_log(lab.vpc_id, destination="s3", file_format=file_format,
                                     hive_compatible=hive, per_hour=per_hour, bucket=bucket)
    report = cloud.deliver(records, flow_logs=[flow_log])
    back = cloud.read_flow_logs(flow_log)
    columns = [c for c in back.columns if c not in flowlogs.PARTITION_COLUMNS]
    pd.testing.assert_frame_equal(_sorted(back[columns]), _expected(records, flow_log, lab))
    assert set(back["aws_account_id"]) == {"123456789012"}
    assert ("hour" in back.columns) == per_hour
    keys = cloud.bucket_keys(flow_log)
    assert len(keys) == report.loc[0, "containers"] == 6  # one file per 5 minutes
    suffix = ".log.parquet" if file_format == "parquet" else ".log.gz"
    assert all(k.endswith(suffix) for k in keys)
    assert all(k.startswith("AWSLogs/aws-account-id=" if hive else "AWSLogs/123456789012/")
               for k in keys)


def test_custom_format_is_delivered_in_that_format(setup, capsys):
    cloud, lab, records = setup
    fmt = "${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${action} ${start} ${end}"
    flow_log = cloud.create_flow_log(lab.vpc_id, log_format=fmt,
                                     log_group="/aws/vpc/flowlogs-custom")
    cloud.deliver(records, flow_logs=[flow_log])
    back = cloud.read_flow_logs(flow_log)
    assert list(back.columns) == ["srcaddr", "dstaddr", "srcport", "dstport", "protocol",
                                  "action", "start", "end"]
    assert len(back) == len(records)


def test_events_older_than_14_days_are_counted_as_rejected(setup, capsys):
    cloud, lab, records = setup
    flow_log = cloud.create_flow_log(lab.vpc_id, log_group="/aws/vpc/flowlogs-old")
    old = records.copy()
    old.loc[old.index[:5], ["start", "end"]] -= 30 * 86400  # a month before the rest
    report = cloud.deliver(old, flow_logs=[flow_log])
    assert report.loc[0, "rejected"] == 5
    assert report.loc[0, "accepted"] == len(records) - 5
    assert "rejected by their destination" in capsys.readouterr().out


def test_big_deliveries_show_a_progress_bar(setup, capsys, monkeypatch):
    cloud, lab, records = setup
    flow_log = cloud.create_flow_log(lab.vpc_id, log_group="/aws/vpc/flowlogs-progress")
    monkeypatch.setattr(transport, "PROGRESS_ABOVE", 1)
    cloud.deliver(records, flow_logs=[flow_log])
    assert "PutLogEvents /aws/vpc/flowlogs-progress" in capsys.readouterr().err
