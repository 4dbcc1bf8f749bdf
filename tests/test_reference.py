"""Protocol and port references, and labelling a frame with them."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import flowlogs, reference


def test_lesson_protocols_and_ports_are_known():
    assert {n: reference.PROTOCOLS[n][0] for n in (1, 6, 17, 47, 50)} == {
        1: "ICMP", 6: "TCP", 17: "UDP", 47: "GRE", 50: "ESP"}
    assert {p: reference.PORTS[p][0] for p in (22, 53, 80, 443, 3306, 5432, 3389, 1433)} == {
        22: "SSH", 53: "DNS", 80: "HTTP", 443: "HTTPS", 3306: "MySQL", 5432: "PostgreSQL",
        3389: "RDP", 1433: "MSSQL"}


def test_label_adds_names_next_to_the_numbers(examples):
    df = flowlogs.parse_lines([e.record for e in examples[:2]])
    labelled = reference.label(df)
    columns = list(labelled.columns)
    assert columns[columns.index("protocol") + 1] == "protocol_name"
    assert list(labelled["dstport_service"]) == ["SSH", "RDP"]
    assert list(labelled["protocol_name"]) == ["TCP", "TCP"]
    assert labelled["srcport_service"].isna().all()  # ephemeral ports have no service
    assert "protocol_name" not in df.columns  # the input is not changed


def test_label_keeps_missing_values_missing():
    df = flowlogs.parse_lines(["2 123456789010 eni-1 - - - - - - - 1431280876 1431280934 - NODATA"])
    assert pd.isna(reference.label(df).loc[0, "protocol_name"])


def test_tables():
    assert len(reference.protocol_table()) == len(reference.PROTOCOLS)
    assert list(reference.port_table().columns) == ["port", "service", "description"]


@pytest.mark.parametrize("value, names", [
    (0, []), (1, ["FIN"]), (2, ["SYN"]), (4, ["RST"]), (18, ["SYN-ACK"]),
    (3, ["SYN", "FIN"]), (19, ["SYN-ACK", "FIN"]), (22, ["SYN-ACK", "RST"]), (8, ["other(8)"]),
])
def test_tcp_flag_names_follow_the_documented_values(value, names):
    assert reference.tcp_flag_names(value) == names


def test_tcp_flags_out_of_range():
    with pytest.raises(ValueError, match="between 0 and 255"):
        reference.tcp_flag_names(256)
