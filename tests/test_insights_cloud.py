"""The AWS side: Logs Insights on a real log group, and Athena (DDL, Trino SQL, running).

AWS clients are real boto3 clients driven by botocore's Stubber; no request leaves the test.
"""

from __future__ import annotations

import boto3
import pandas as pd
import pytest
import sqlglot
from botocore.stub import ANY, Stubber

from helpers import insights, queries, traffic
from helpers.aws import athena as athena_adapter
from helpers.aws import logs_insights
from helpers.aws.cloud import Cloud
from helpers.errors import AwsSetupError, InsightsError, InsightsSyntaxError
from helpers.flowlogs import layout
from helpers.insights import InsightsFieldWarning
from helpers.times import to_epoch

REGION = "ap-northeast-2"
ACCOUNT = "123456789012"
GROUP = "/course/vpc-flow-logs"


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return traffic.generate(scenarios="all", seed=5, duration="6h")


def client(service: str):
    return boto3.client(service, region_name=REGION, aws_access_key_id="testing",
                        aws_secret_access_key="testing")


@pytest.fixture
def logs():
    c = client("logs")
    with Stubber(c) as stub:
        yield c, stub
        stub.assert_no_pending_responses()


@pytest.fixture
def athena():
    c = client("athena")
    with Stubber(c) as stub:
        yield c, stub
        stub.assert_no_pending_responses()


def cloud_with(**clients) -> Cloud:
    return Cloud("aws", REGION, ACCOUNT, None, clients)


def as_insights_returns(frame: pd.DataFrame) -> list[list[dict]]:
    """A result as GetQueryResults returns it: every value as text, nulls left out, @ptr."""
    rows = []
    for i, row in enumerate(frame.itertuples(index=False)):
        fields = []
        for name, value in zip(frame.columns, row):
            if pd.isna(value):
                continue
            if isinstance(value, pd.Timestamp):
                text = value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
            else:
                text = str(value)
            fields.append({"field": name, "value": text})
        fields.append({"field": "@ptr", "value": f"ptr-{i}"})
        rows.append(fields)
    return rows


START, END = "2021-12-20T00:00:00Z", "2021-12-20T06:00:00Z"


def expect_start(stub, query: str, query_id: str = "q-1"):
    stub.add_response("start_query", {"queryId": query_id}, {
        "logGroupName": GROUP, "startTime": 1639958400, "endTime": 1639980000,
        "queryString": query})


@pytest.mark.parametrize("query", [
    "stats sum(bytes) as b by srcAddr | sort b desc | limit 10",
    "filter action = 'REJECT' | stats count(*) as n, avg(bytes) by dstPort, bin(1h) "
    "| sort n desc | limit 20",
    "fields @timestamp, srcAddr, dstPort, action, isValidIpV4(srcAddr) as v4 | limit 30",
])
def test_run_on_cloud_polls_until_complete_and_types_the_result(logs, records, query):
    c, stub = logs
    local = insights.run(query, records)
    expect_start(stub, query)
    stub.add_response("get_query_results", {"status": "Scheduled", "results": []},
                      {"queryId": "q-1"})
    stub.add_response("get_query_results", {"status": "Running", "results": []},
                      {"queryId": "q-1"})
    stub.add_response("get_query_results", {"status": "Complete",
                                            "results": as_insights_returns(local)},
                      {"queryId": "q-1"})
    got = logs_insights.run_on_cloud(cloud_with(logs=c), query, GROUP, START, END,
                                sleep=lambda s: None)
    pd.testing.assert_frame_equal(got, local, check_dtype=False)
    assert list(got.columns) == list(local.columns)
    numbers = [n for n in local.columns if str(local[n].dtype).startswith("Int")]
    assert all(str(got[n].dtype) == "Int64" for n in numbers)


def test_run_on_cloud_passes_the_limit(logs):
    c, stub = logs
    stub.add_response("start_query", {"queryId": "q-2"}, {
        "logGroupName": GROUP, "startTime": ANY, "endTime": ANY, "queryString": ANY,
        "limit": 50})
    stub.add_response("get_query_results", {"status": "Complete", "results": []},
                      {"queryId": "q-2"})
    got = logs_insights.run_on_cloud(cloud_with(logs=c), "fields srcAddr", GROUP, 0, 60, limit=50)
    assert list(got.columns) == ["srcAddr"] and len(got) == 0


@pytest.mark.parametrize("status, words", [
    ("Failed", "failed"), ("Cancelled", "was cancelled"), ("Timeout", "timed out on the AWS "
                                                          "side"),
])
def test_run_on_cloud_raises_when_the_query_does_not_complete(logs, status, words):
    c, stub = logs
    expect_start(stub, "stats count(*)")
    stub.add_response("get_query_results", {"status": status, "results": []},
                      {"queryId": "q-1"})
    with pytest.raises(InsightsError, match=f"the Logs Insights query q-1 {words}"):
        logs_insights.run_on_cloud(cloud_with(logs=c), "stats count(*)", GROUP, START, END,
                              sleep=lambda s: None)


def test_run_on_cloud_stops_a_query_that_runs_too_long(logs):
    c, stub = logs
    expect_start(stub, "stats count(*)")
    for _ in range(3):
        stub.add_response("get_query_results", {"status": "Running", "results": []},
                          {"queryId": "q-1"})
    stub.add_response("stop_query", {"success": True}, {"queryId": "q-1"})
    with pytest.raises(InsightsError, match="still Running after 2 s; it has been stopped"):
        logs_insights.run_on_cloud(cloud_with(logs=c), "stats count(*)", GROUP, START, END,
                              poll=1, timeout=2, sleep=lambda s: None)


def test_run_on_cloud_wraps_client_errors(logs):
    c, stub = logs
    stub.add_client_error("start_query", "ResourceNotFoundException",
                          "Log group does not exist")
    with pytest.raises(InsightsError, match="refused the query on '/course/vpc-flow-logs'.*"
                       "Log group does not exist") as info:
        logs_insights.run_on_cloud(cloud_with(logs=c), "stats count(*)", GROUP, START, END)
    assert info.value.__cause__ is not None


def test_run_on_cloud_checks_the_query_before_sending(logs):
    c, _ = logs  # no response queued: nothing may be sent
    with pytest.raises(InsightsSyntaxError):
        logs_insights.run_on_cloud(cloud_with(logs=c), "stats count(*) by", GROUP, START, END)


def test_run_on_cloud_warns_about_undiscovered_fields(logs):
    c, stub = logs
    expect_start(stub, "stats count(*) by srcaddr")
    stub.add_response("get_query_results", {"status": "Complete", "results": []},
                      {"queryId": "q-1"})
    with pytest.warns(InsightsFieldWarning, match="Did you mean 'srcAddr'"):
        logs_insights.run_on_cloud(cloud_with(logs=c), "stats count(*) by srcaddr", GROUP, START,
                              END)


@pytest.mark.parametrize("value, seconds", [
    ("2021-12-20T00:00:00Z", 1639958400), ("2021-12-20 09:00:00+09:00", 1639958400),
    (pd.Timestamp("2021-12-20"), 1639958400), (1639958400, 1639958400),
    (1639958400.9, 1639958400),
])
def test_times_become_epoch_seconds(value, seconds):
    assert to_epoch(value) == seconds


# --- Athena: the table --------------------------------------------------------------------------


def ddl(**options) -> str:
    return insights.athena_ddl("vpc_flow_logs", "course-flow-logs", "lab",
                               **{"account": ACCOUNT, "region": REGION, **options})


def test_athena_ddl_uses_partition_projection_and_no_repair():
    text = ddl()
    assert text.startswith("CREATE EXTERNAL TABLE IF NOT EXISTS `vpc_flow_logs` (")
    assert "'projection.enabled' = 'true'" in text
    assert "'projection.aws_account_id.values' = '123456789012'" in text
    assert "'projection.hour.range' = '0,23'" in text
    assert "MSCK" not in text and "ADD PARTITION" not in text
    assert "LOCATION 's3://course-flow-logs/lab/AWSLogs/'" in text
    assert "ParquetHiveSerDe" in text


def test_athena_ddl_columns_come_from_the_registry():
    text = ddl()
    for line in ["`srcaddr` string", "`dstport` int", "`bytes` bigint", "`end` bigint",
                 "`traffic_path` int", "`log_status` string"]:
        assert f"  {line}" in text
    assert "`ecs_cluster_arn`" not in text
    assert "`ecs_cluster_arn` string" in ddl(version=7)


def test_athena_location_template_matches_the_s3_layout():
    text = ddl()
    template = text.split("'storage.location.template' = '")[1].split("'")[0]
    key = layout.s3_key(ACCOUNT, REGION, 1639962300, flow_log_id="fl-1", digest="ab",
                        hive=True, per_hour=True, file_format="parquet")
    filled = (template.replace("${aws_account_id}", ACCOUNT).replace("${aws_region}", REGION)
              .replace("${year}", "2021").replace("${month}", "12").replace("${day}", "20")
              .replace("${hour}", "01"))
    assert filled + "/" == "s3://course-flow-logs/lab/" + key.rsplit("/", 1)[0] + "/"


def test_athena_ddl_daily_partitions_and_several_accounts():
    text = ddl(hourly=False, account=[ACCOUNT, "210987654321"], region=[REGION, "us-east-1"])
    assert "`hour`" not in text and "${hour}" not in text
    assert "'projection.aws_account_id.values' = '123456789012,210987654321'" in text
    assert "'projection.aws_region.values' = 'ap-northeast-2,us-east-1'" in text


@pytest.mark.parametrize("options, words", [
    ({"account": "12345"}, "not a valid account ID"),
    ({"region": "Seoul"}, "not a valid region"),
    ({"years": (2030, 2021)}, "first <= last"),
])
def test_athena_ddl_checks_its_arguments(options, words):
    with pytest.raises(AwsSetupError, match=words):
        ddl(**options)


@pytest.mark.parametrize("table, bucket, prefix", [
    ("bad-name", "b-1", ""), ("t", "Bad_Bucket", ""), ("t", "b-1", "x' OR 1=1"),
])
def test_athena_ddl_refuses_names_that_could_break_the_statement(table, bucket, prefix):
    with pytest.raises(AwsSetupError):
        insights.athena_ddl(table, bucket, prefix, account=ACCOUNT, region=REGION)


# --- Athena: Trino SQL that means the same -------------------------------------------------------


ROUND_TRIP = [queries.load(name).insights for name in queries.names()] + [
    "fields @timestamp, @message | sort @timestamp desc | limit 25",
    "filter isIpv4InSubnet(srcAddr, '10.0.0.0/16') | stats sum(bytes) as b by dstAddr "
    "| sort b desc | limit 5",
    "parse @message /(?<eni>eni-.*?) / | stats count(*) as n by eni",
    "fields @timestamp, srcAddr, dstAddr, srcPort, dstPort, protocol | sort @timestamp desc "
    "| dedup srcAddr, dstAddr, srcPort, dstPort, protocol | limit 50",
    "stats count(*) as c by bin(5m) as t | sort c desc | limit 5",
    "fields datefloor(@timestamp, 1mo) as m, dateceil(@timestamp, 1w) as w, "
    "toMillis(@timestamp) as ms, strlen(@message) as len, substr(action, 0, 3) as a3, "
    "concat(srcAddr, ':', srcPort) as ep, bytes / packets as size | limit 30",
    "filter isIpInSubnet(srcAddr, '2001:db8::/32') or isValidIpV6(dstAddr) | stats count(*)",
    "stats earliest(srcAddr) as e, latest(dstAddr) as l, stddev(bytes) as s by action",
    "filter srcAddr like /^10\\./ and dstPort not in [22, 80] "
    "| stats count(*) as n by dstPort | sort n desc | limit 5",
    "stats sum(bytes) as total by srcAddr | filter total > 1000 | stats count(*) as big",
]


@pytest.mark.parametrize("query", ROUND_TRIP)
def test_athena_sql_parses_as_trino_and_means_the_same(records, query):
    sql = insights.to_sql(query, dialect="athena", table="flows")
    tree = sqlglot.parse_one(sql, read="trino")
    assert tree.find(sqlglot.exp.Select) is not None
    back = tree.sql(dialect="duckdb")
    pd.testing.assert_frame_equal(insights.run_sql(back, records), insights.run(query, records),
                                  check_dtype=False)


# --- Athena: running -----------------------------------------------------------------------------


def athena_page(columns, rows, header=True, token=None):
    data = ([{"Data": [{"VarCharValue": name} for name, _ in columns]}] if header else [])
    data += [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    page = {"ResultSet": {"Rows": data, "ResultSetMetadata": {"ColumnInfo": [
        {"Name": name, "Type": kind} for name, kind in columns]}}}
    if token:
        page["NextToken"] = token
    return page


def test_run_athena_polls_pages_and_types(athena):
    c, stub = athena
    sql = insights.to_sql("stats sum(bytes) as b by srcAddr | sort b desc | limit 3",
                          dialect="athena", table="vpc_flow_logs")
    stub.add_response("start_query_execution", {"QueryExecutionId": "e-1"}, {
        "QueryString": sql, "QueryExecutionContext": {"Database": "course"},
        "ResultConfiguration": {"OutputLocation": "s3://course-results/"}})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
        "State": "RUNNING"}}}, {"QueryExecutionId": "e-1"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
        "State": "SUCCEEDED"}}}, {"QueryExecutionId": "e-1"})
    columns = [("srcaddr", "varchar"), ("b", "bigint"), ("first", "timestamp"),
               ("ratio", "double"), ("ok", "boolean")]
    stub.add_response("get_query_results", athena_page(columns, [
        ["10.0.0.1", "300", "2021-12-20 00:00:00.000", "0.5", "true"]], token="t-2"),
        {"QueryExecutionId": "e-1"})
    stub.add_response("get_query_results", athena_page(columns, [
        ["10.0.0.2", "200", None, None, "false"]], header=False),
        {"QueryExecutionId": "e-1", "NextToken": "t-2"})
    got = athena_adapter.run_athena(cloud_with(athena=c), sql, "course", "s3://course-results/",
                              sleep=lambda s: None)
    assert list(got.columns) == ["srcaddr", "b", "first", "ratio", "ok"]
    assert got["b"].tolist() == [300, 200] and str(got["b"].dtype) == "Int64"
    assert got["first"].tolist()[0] == pd.Timestamp("2021-12-20", tz="UTC")
    assert str(got["first"].dtype) == "datetime64[ms, UTC]"
    assert got["ratio"].tolist()[0] == 0.5 and pd.isna(got["ratio"].tolist()[1])
    assert got["ok"].tolist() == [True, False]


def test_run_athena_raises_with_athenas_reason(athena):
    c, stub = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": "e-2"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
        "State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: vpc_flow_logs"}}},
        {"QueryExecutionId": "e-2"})
    with pytest.raises(InsightsError, match="ended FAILED: TABLE_NOT_FOUND"):
        athena_adapter.run_athena(cloud_with(athena=c), "SELECT 1", "course", "s3://r/",
                            sleep=lambda s: None)


def test_run_athena_stops_a_query_that_runs_too_long(athena):
    c, stub = athena
    stub.add_response("start_query_execution", {"QueryExecutionId": "e-3"})
    for _ in range(2):
        stub.add_response("get_query_execution", {"QueryExecution": {"Status": {
            "State": "QUEUED"}}}, {"QueryExecutionId": "e-3"})
    stub.add_response("stop_query_execution", {}, {"QueryExecutionId": "e-3"})
    with pytest.raises(InsightsError, match="still QUEUED after 1 s"):
        athena_adapter.run_athena(cloud_with(athena=c), "SELECT 1", "course", "s3://r/",
                            timeout=1, sleep=lambda s: None)


def test_run_athena_wraps_client_errors(athena):
    c, stub = athena
    stub.add_client_error("start_query_execution", "InvalidRequestException", "bad database")
    with pytest.raises(InsightsError, match="Athena refused the query.*bad database"):
        athena_adapter.run_athena(cloud_with(athena=c), "SELECT 1", "nope", "s3://r/")


def test_run_athena_offline_says_what_to_do_instead():
    local = Cloud("local", REGION, ACCOUNT, None, {})
    with pytest.raises(InsightsError, match="no Athena.*helpers.insights.run"):
        local.athena_query("SELECT 1", "course", "s3://r/")
