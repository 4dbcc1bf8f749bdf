"""VPC endpoint metrics: what AWS publishes, and the values derived from flow-log records."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import flowlogs, traffic
from helpers.errors import MonitoringError
from helpers.monitoring import endpoints, metrics

START = "2021-12-20T00:00:00Z"


@pytest.fixture(scope="module")
def lab():
    return traffic.default_topology()


@pytest.fixture(scope="module")
def endpoint(lab):
    return endpoints.lab_endpoint(lab)


@pytest.fixture(scope="module")
def records(lab, endpoint):
    return endpoints.endpoint_traffic(lab, endpoint, start=START, duration="2h", seed=4)


def test_the_five_metrics_aws_publishes_for_interface_endpoints():
    assert set(endpoints.ENDPOINT_METRICS) == {"ActiveConnections", "NewConnections",
                                               "BytesProcessed", "PacketsDropped",
                                               "RstPacketsReceived"}
    assert {m.namespace for m in endpoints.ENDPOINT_METRICS.values()} == {
        "AWS/PrivateLinkEndpoints"}
    # the lesson's names are not endpoint metrics
    for lesson in ("PacketsIn", "PacketsOut", "BytesIn", "BytesOut"):
        assert lesson not in endpoints.ENDPOINT_METRICS
    assert endpoints.ENDPOINT_METRICS["ActiveConnections"].statistic == "Maximum"
    assert set(endpoints.DERIVED) == set(endpoints.ENDPOINT_METRICS) - {"PacketsDropped"}


def test_the_lab_endpoint_sits_in_the_private_subnet_with_a_free_address(lab, endpoint):
    private = lab.interface("private")
    assert endpoint.subnet_id == private.subnet_id
    assert endpoint.private_ip not in {e.private_ip for e in lab.interfaces}
    assert endpoint.private_ip.startswith("10.0.11.")
    assert endpoint.service_name == "com.amazonaws.ap-northeast-2.ssm"
    assert endpoint.service == "ssm"
    assert endpoints.lab_endpoint(lab) == endpoint  # the same IDs on every run
    assert dict(endpoint.dimensions) == {"Endpoint Type": "Interface",
                                         "Service Name": endpoint.service_name,
                                         "VPC Endpoint Id": endpoint.endpoint_id,
                                         "VPC Id": lab.vpc_id}


def test_the_traffic_is_four_records_per_connection_on_two_interfaces(lab, endpoint, records):
    assert set(records["interface_id"]) == {lab.interface("private").eni_id, endpoint.eni_id}
    assert len(records) % 4 == 0
    at_endpoint = records[records["interface_id"] == endpoint.eni_id]
    assert set(at_endpoint["dstaddr"]) | set(at_endpoint["srcaddr"]) == {
        endpoint.private_ip, lab.interface("private").private_ip}
    assert (records["dstport"][records["dstaddr"] == endpoint.private_ip] == 443).all()
    # same seed, same records; another seed, other records
    again = endpoints.endpoint_traffic(lab, endpoint, start=START, duration="2h", seed=4)
    assert again.equals(records)
    other = endpoints.endpoint_traffic(lab, endpoint, start=START, duration="2h", seed=5)
    assert not other.equals(records)


def test_the_metrics_count_what_the_records_hold(endpoint, records):
    frame = endpoints.endpoint_metrics(records, endpoint)
    assert set(frame["metric"]) == set(endpoints.DERIVED)
    assert set(frame["dimension"]) == {"VPC Endpoint Id"}
    assert set(frame["dimension_value"]) == {endpoint.endpoint_id}
    at = records[records["interface_id"] == endpoint.eni_id]
    requests = at[at["dstaddr"] == endpoint.private_ip]
    total = metrics.series(frame, "BytesProcessed").sum()
    assert total == at["bytes"].sum()  # both directions, on the endpoint's interface only
    assert total < records["bytes"].sum()  # not the instance interface's copy as well
    assert metrics.series(frame, "NewConnections").sum() == len(requests)
    resets = (requests["tcp_flags"] & 4) > 0
    assert metrics.series(frame, "RstPacketsReceived").sum() == resets.sum() > 0
    active = metrics.series(frame, "ActiveConnections")
    assert active.max() >= 1 and (active >= 0).all()
    assert len(metrics.series(frame, "BytesProcessed")) == 120  # every minute of two hours


def test_active_connections_span_the_minutes_a_connection_lasts(endpoint):
    lines = [f"123456789012 {endpoint.eni_id} 10.0.11.50 {endpoint.private_ip} 40000 443 6 "
             f"10 900 1639958410 1639958530 ACCEPT OK 2",  # 00:00:10-00:02:10: three minutes
             f"123456789012 {endpoint.eni_id} 10.0.11.50 {endpoint.private_ip} 40001 443 6 "
             f"4 300 1639958470 1639958475 ACCEPT OK 6"]  # 00:01:10, reset
    fmt = ("${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
           "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} "
           "${tcp-flags}")
    frame = endpoints.endpoint_metrics(flowlogs.parse_lines(lines, fmt), endpoint)
    assert metrics.series(frame, "ActiveConnections").tolist() == [1, 2, 1]
    assert metrics.series(frame, "NewConnections").tolist() == [1, 1, 0]
    assert metrics.series(frame, "RstPacketsReceived").tolist() == [0, 1, 0]
    assert metrics.series(frame, "BytesProcessed").tolist() == [900, 300, 0]


def test_a_reused_port_is_a_new_connection(endpoint):
    fmt = "${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${protocol} ${bytes} ${start} " \
          "${end} ${action} ${tcp-flags}"
    lines = [f"{endpoint.eni_id} 10.0.11.50 {endpoint.private_ip} 40000 6 100 {t} {t + 5} "
             "ACCEPT 3" for t in (1639958400, 1639958700)]  # 00:00 and 00:05, same port
    frame = endpoints.endpoint_metrics(flowlogs.parse_lines(lines, fmt), endpoint)
    active = metrics.series(frame, "ActiveConnections")
    assert active.iloc[0] == 1 and active.iloc[5] == 1 and active.iloc[1:5].sum() == 0


def test_other_interfaces_and_rejects_are_not_the_endpoints(lab, endpoint, records):
    nat = traffic.generate(["lab_download"], topology=lab, seed=1, duration="1h")
    both = pd.concat([records, nat], ignore_index=True)
    alone = endpoints.endpoint_metrics(records, endpoint)
    mixed = endpoints.endpoint_metrics(both, endpoint)
    assert metrics.series(mixed, "BytesProcessed").sum() == \
        metrics.series(alone, "BytesProcessed").sum()
    rejected = records.assign(action="REJECT")
    assert metrics.series(endpoints.endpoint_metrics(rejected, endpoint),
                          "BytesProcessed").sum() == 0


def test_a_gateway_endpoint_has_no_metrics(records):
    gateway = endpoints.Endpoint("vpce-0a1b2c3d4e5f60000", "vpc-0a1b2c3d4e5f60000",
                                 "com.amazonaws.ap-northeast-2.s3", endpoint_type="Gateway")
    with pytest.raises(MonitoringError, match="gateway endpoints .* publish no CloudWatch"):
        endpoints.endpoint_metrics(records, gateway)
    with pytest.raises(MonitoringError, match="gateway endpoint has no network interface"):
        endpoints.endpoint_traffic(traffic.default_topology(), gateway, start=START)


@pytest.mark.parametrize("kwargs, message", [
    (dict(endpoint_id="vpc-1"), "endpoint_id must be a VPC endpoint ID"),
    (dict(service_name="ssm"), "service_name must be a service name"),
    (dict(endpoint_type="interface"), "endpoint_type must be 'Interface'"),
    (dict(private_ip="10.0.11"), "private_ip must be an IPv4 address"),
])
def test_an_endpoint_checks_its_fields(kwargs, message):
    args = {"endpoint_id": "vpce-0a1b2c3d4e5f60000", "vpc_id": "vpc-1",
            "service_name": "com.amazonaws.ap-northeast-2.ssm", **kwargs}
    with pytest.raises(MonitoringError, match=message):
        endpoints.Endpoint(**args)


@pytest.mark.parametrize("call, message", [
    (lambda lab, ep: endpoints.endpoint_traffic(lab, ep, start=START, seed=-1),
     "seed must be a whole number"),
    (lambda lab, ep: endpoints.endpoint_traffic(lab, ep, start=START, duration="30s"),
     "duration must be at least one interval"),
    (lambda lab, ep: endpoints.endpoint_traffic(lab, ep, start=START, sessions=-2),
     "sessions must be a whole number"),
    (lambda lab, ep: endpoints.endpoint_metrics([1, 2], ep), "records must be a DataFrame"),
    (lambda lab, ep: endpoints.endpoint_metrics(pd.DataFrame({"srcaddr": []}), ep),
     "needs the columns interface_id"),
    (lambda lab, ep: endpoints.lab_endpoint("lab"), "topology must be the lab VPC"),
    (lambda lab, ep: endpoints.lab_endpoint(lab, "com.amazonaws.ap-northeast-2.ssm"),
     "service must be a short service name"),
])
def test_bad_arguments_are_explained(lab, endpoint, call, message):
    with pytest.raises(MonitoringError, match=message):
        call(lab, endpoint)


def test_no_records_give_an_empty_frame(endpoint, records):
    frame = endpoints.endpoint_metrics(records.iloc[:0], endpoint)
    assert frame.empty and list(frame.columns) == list(metrics.COLUMNS)
