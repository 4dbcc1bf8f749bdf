"""The two discussion topics, computed: what each flow-log setting keeps, costs and detects."""

from __future__ import annotations

import pytest

from helpers import traffic
from helpers.detect import tradeoffs
from helpers.errors import DetectError

ATTACKS = ["web_baseline", "port_scan_inbound", "ssh_brute_force", "data_exfiltration",
           "lab_download"]


@pytest.fixture(scope="module")
def day():
    return traffic.generate(ATTACKS, seed=21, duration="4h")


def test_reject_only_logging_keeps_the_rejects_and_nothing_else(day):
    logged = tradeoffs.as_logged(day, "REJECT")
    assert len(logged) == (day["action"] == "REJECT").sum() > 0
    assert set(logged["action"]) == {"REJECT"}


def test_the_lessons_format_keeps_only_its_fields(day):
    logged = tradeoffs.as_logged(day, "ALL", "lesson")
    assert list(logged.columns) == ["srcaddr", "dstaddr", "srcport", "dstport", "protocol",
                                    "action", "start", "end", "label"]


def test_coverage_prices_each_setting_and_names_what_it_loses(day):
    table = tradeoffs.coverage(day, {"all": {}, "reject": {"traffic_type": "REJECT"},
                                     "lesson": {"log_format": "lesson"},
                                     "s3": {"destination": "s3"}}).set_index("configuration")
    assert table.loc["all", ["port_scan_inbound", "ssh_brute_force",
                             "data_exfiltration"]].all()
    # REJECT-only still sees the scan and the guessing, not the upload that was allowed.
    assert table.loc["reject", "port_scan_inbound"] and table.loc["reject", "ssh_brute_force"]
    assert not table.loc["reject", "data_exfiltration"]
    # The lesson's 8 fields have no interface, packets or bytes: no detection can run.
    assert not table.loc["lesson", ["port_scan_inbound", "data_exfiltration"]].any()
    assert table.loc["reject", "cost_usd"] < table.loc["s3", "cost_usd"] < \
        table.loc["all", "cost_usd"]


def test_a_longer_interval_and_a_slower_destination_delay_detection():
    delays = {}
    for aggregation in (60, 600):
        records = traffic.generate(["web_baseline", "port_scan_inbound"], seed=5,
                                   duration="2h", aggregation=aggregation)
        for destination, delivery in tradeoffs.TYPICAL_DELIVERY.items():
            delays[aggregation, destination] = tradeoffs.detection_delay(
                records, "port_scan_inbound", aggregation=aggregation, delivery=delivery)
    assert delays[60, "cloud-watch-logs"] < delays[60, "s3"] < delays[600, "s3"]
    assert delays[60, "cloud-watch-logs"] < delays[600, "cloud-watch-logs"]
    assert delays[60, "s3"] - delays[60, "cloud-watch-logs"] == 300  # S3 arrives 5 min later
    assert delays[60, "cloud-watch-logs"] >= 300 + 60  # never before delivery + a window


@pytest.mark.parametrize("call, message", [
    (lambda d: tradeoffs.as_logged(d, "all"), "traffic_type must be ALL"),
    (lambda d: tradeoffs.detection_delay(d, "phishing", aggregation=60, delivery=300),
     "attack must be one of"),
    (lambda d: tradeoffs.detection_delay(d, "ddos", aggregation=60, delivery=300),
     "no 'ddos' records"),
    (lambda d: tradeoffs.detection_delay(d, "ssh_brute_force", aggregation=30, delivery=300),
     "aggregation must be 60 or 600"),
])
def test_bad_arguments_are_named(day, call, message):
    with pytest.raises(DetectError, match=message):
        call(day)
