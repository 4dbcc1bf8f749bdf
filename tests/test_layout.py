"""S3 keys of flow-log files follow AWS's documented layout."""

from __future__ import annotations

import pytest

from helpers.flowlogs import layout

AT = 1639962300  # 2021-12-20T01:05:00Z
KEYS = {
    (False, False, "plain-text"): "AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2021/12/20/"
    "123456789012_vpcflowlogs_ap-northeast-2_fl-0123456789abcdef0_20211220T0105Z_abcd1234.log.gz",
    (False, True, "plain-text"): "AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2021/12/20/01/"
    "123456789012_vpcflowlogs_ap-northeast-2_fl-0123456789abcdef0_20211220T0105Z_abcd1234.log.gz",
    (True, False, "parquet"): "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
    "aws-region=ap-northeast-2/year=2021/month=12/day=20/123456789012_vpcflowlogs_ap-northeast-2"
    "_fl-0123456789abcdef0_20211220T0105Z_abcd1234.log.parquet",
    (True, True, "parquet"): "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
    "aws-region=ap-northeast-2/year=2021/month=12/day=20/hour=01/123456789012_vpcflowlogs_"
    "ap-northeast-2_fl-0123456789abcdef0_20211220T0105Z_abcd1234.log.parquet",
}


@pytest.mark.parametrize("hive", [False, True])
@pytest.mark.parametrize("per_hour", [False, True])
@pytest.mark.parametrize("file_format", ["plain-text", "parquet"])
def test_s3_keys_follow_the_documented_layout(hive, per_hour, file_format):
    key = layout.s3_key("123456789012", "ap-northeast-2", AT, flow_log_id="fl-0123456789abcdef0",
                        digest="abcd1234", hive=hive, per_hour=per_hour, file_format=file_format)
    expected = KEYS.get((hive, per_hour, file_format))
    if expected is None:  # the table lists four; the others differ only in the suffix
        other = "parquet" if file_format == "plain-text" else "plain-text"
        expected = KEYS[(hive, per_hour, other)].replace(
            ".log.gz" if other == "plain-text" else ".log.parquet",
            ".log.parquet" if other == "plain-text" else ".log.gz")
    assert key == expected



def test_the_file_name_carries_its_own_stamp():
    key = layout.s3_key("123456789012", "ap-northeast-2", AT, flow_log_id="fl-1", digest="ab",
                        stamp=AT + 240)
    assert key.endswith("_fl-1_20211220T0109Z_ab.log.gz")


def test_unknown_file_format():
    with pytest.raises(ValueError, match="file_format must be 'plain-text' or 'parquet'"):
        layout.s3_key("1", "r", AT, flow_log_id="fl-1", digest="ab", file_format="csv")
