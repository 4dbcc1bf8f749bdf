"""helpers.cost: the pricing table, tier arithmetic, measured sizes and the monthly model."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from helpers import cost
from helpers.cost.pricing import BYTES_PER_GB, BYTES_PER_MB, BYTES_PER_TB
from helpers.errors import CourseError

SEOUL, VIRGINIA = "ap-northeast-2", "us-east-1"
ITEMS = {"cwl_vended_delivery", "s3_vended_delivery", "s3_parquet_conversion", "cwl_storage",
         "cwl_insights_scan", "s3_standard_storage", "s3_standard_ia_storage", "athena_scan",
         "nat_gateway_hour", "nat_gateway_data"}
TB = 1024  # GB


def parts(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame.component != "total"]


def total(frame: pd.DataFrame) -> float:
    return float(frame.loc[frame.component == "total", "cost_usd"].iloc[0])


def row(frame: pd.DataFrame, item: str) -> pd.Series:
    return frame[frame["item"] == item].iloc[0]


# --- the pricing table -------------------------------------------------------------------------


def test_every_price_has_a_source_url_an_as_of_date_and_a_note():
    table = cost.price_table()
    assert list(table.columns) == list(cost.pricing.COLUMNS)
    for _, r in table.iterrows():
        assert r.source.startswith("https://aws.amazon.com/"), r.item
        assert dt.date.fromisoformat(r.as_of) <= dt.date.today()
        assert r.note.strip(), r.item
        if not r.confirmed:
            assert "not confirmed" in r.note, (r.region, r.item)


def test_the_table_covers_both_regions_and_every_item():
    table = cost.price_table()
    assert {SEOUL, VIRGINIA} <= set(cost.REGIONS)
    for region in (SEOUL, VIRGINIA):
        assert ITEMS <= set(table.loc[table.region == region, "item"])


@pytest.mark.parametrize("region", [SEOUL, VIRGINIA])
def test_every_item_has_contiguous_tiers_from_zero(region):
    for item in cost.prices(region)["item"].unique():
        steps = cost.tiers(item, region=region)
        assert steps[0][0] == 0 and steps[-1][1] is None
        assert cost.tiered_cost(0, steps) == 0.0


@pytest.mark.parametrize("item", ["cwl_vended_delivery", "s3_vended_delivery"])
def test_vended_logs_are_tiered_at_10_30_50_tb(item):
    for region in (SEOUL, VIRGINIA):
        steps = cost.tiers(item, region=region)
        assert [(s, e) for s, e, _ in steps] == [(0, 10 * TB), (10 * TB, 30 * TB),
                                                 (30 * TB, 50 * TB), (50 * TB, None)]
        assert [p for *_, p in steps] == sorted((p for *_, p in steps), reverse=True)


def test_the_lessons_076_is_ingestion_not_storage():
    seoul = cost.prices(SEOUL).set_index("item")
    assert seoul.loc["cwl_standard_ingestion", "price_usd"] == 0.76
    assert seoul.loc["cwl_storage", "price_usd"] < 0.76 / 10  # storage is ~$0.03/GB-month
    delivery = cost.tiers("cwl_vended_delivery", region=SEOUL)
    to_s3 = cost.tiers("s3_vended_delivery", region=SEOUL)
    assert all(s3[2] <= cwl[2] for s3, cwl in zip(to_s3, delivery))


# --- tiered prices -----------------------------------------------------------------------------


SEOUL_CWL = [(0, 10 * TB, 0.76), (10 * TB, 30 * TB, 0.38), (30 * TB, 50 * TB, 0.152),
             (50 * TB, None, 0.076)]


@pytest.mark.parametrize("gb, expected", [
    (0, 0.0),
    (100, 100 * 0.76),
    (10 * TB, 10 * TB * 0.76),                                  # exactly at a bound
    (12 * TB, 10 * TB * 0.76 + 2 * TB * 0.38),                  # 12 TB in the first tiers
    (30 * TB, 10 * TB * 0.76 + 20 * TB * 0.38),
    (60 * TB, 10 * TB * 0.76 + 20 * TB * 0.38 + 20 * TB * 0.152 + 10 * TB * 0.076),
])
def test_tiered_cost_by_hand(gb, expected):
    assert cost.tiered_cost(gb, SEOUL_CWL) == pytest.approx(expected)
    assert cost.tiered_cost(gb, cost.tiers("cwl_vended_delivery", region=SEOUL)) == \
        pytest.approx(expected)


def test_tiered_cost_on_a_closed_table_and_one_flat_tier():
    assert cost.tiered_cost(5, [(0, 10, 2.0)]) == 10.0
    assert cost.tiered_cost(3.5, [(0, None, 0.5)]) == 1.75


# --- overrides ---------------------------------------------------------------------------------


def test_an_override_changes_exactly_the_overridden_item():
    before = cost.prices(SEOUL)
    after = cost.prices(SEOUL, overrides={"cwl_vended_delivery": 0.5})
    changed = after[(after.price_usd != before.price_usd)
                    | (after.source != before.source)]
    assert set(changed["item"]) == {"cwl_vended_delivery"}
    mine = after[after["item"] == "cwl_vended_delivery"]
    assert (mine.price_usd == 0.5).all() and (mine.source == "student override").all()
    assert mine.as_of.isna().all() and mine.note.str.contains("0.76").any()


def test_an_override_per_tier():
    after = cost.prices(SEOUL, overrides={"s3_vended_delivery": [0.4, 0.3, 0.2, 0.1]})
    assert [p for *_, p in cost.tiers("s3_vended_delivery", region=SEOUL, table=after)] == \
        [0.4, 0.3, 0.2, 0.1]


def test_an_override_changes_exactly_one_component_of_the_model():
    base = cost.estimate_cost(records_per_day=2e6)
    cheaper = cost.estimate_cost(records_per_day=2e6,
                                 price_table=cost.prices(SEOUL, overrides={"cwl_storage": 0}))
    same = base.set_index("item")["cost_usd"]
    other = cheaper.set_index("item")["cost_usd"]
    assert other["cwl_storage"] == 0 and same["cwl_storage"] > 0
    assert other["cwl_vended_delivery"] == same["cwl_vended_delivery"]
    assert total(cheaper) == pytest.approx(total(base) - same["cwl_storage"])


def test_a_frame_edited_by_hand_is_used():
    table = cost.prices(SEOUL)
    table.loc[table["item"] == "cwl_insights_scan", "price_usd"] = 1.0
    df = cost.estimate_cost(records_per_day=1e5, scanned_gb_per_day=2, price_table=table)
    insights = row(df, "cwl_insights_scan")
    assert insights.cost_usd == pytest.approx(2 * cost.DAYS_PER_MONTH * 1.0)


# --- measured sizes ----------------------------------------------------------------------------


def test_sizes_are_deterministic():
    first = cost.measure_sizes("lesson", seed=3, duration="30m")
    again = cost.sizes._measure(cost.LESSON_FORMAT, None, 3, "30m")  # not from the cache
    assert dict(first.bytes_per_record) == dict(again.bytes_per_record)
    assert dict(first.records) == dict(again.records)


def test_sizes_follow_the_containers_and_the_fields():
    default = cost.measure_sizes("default").bytes_per_record
    lesson = cost.measure_sizes("lesson").bytes_per_record
    for sizes in (default, lesson):
        # CloudWatch counts 26 bytes per event; a text line has one newline
        assert sizes["cloudwatch"] - sizes["text"] == pytest.approx(25)
        assert sizes["parquet"] < sizes["gzip"] < sizes["text"] < sizes["cloudwatch"]
    for container in cost.sizes.CONTAINERS:
        assert lesson[container] < default[container]


def test_size_table_is_tidy():
    table = cost.size_table()
    assert list(table.columns) == ["format", "container", "bytes_per_record", "note"]
    assert len(table) == 2 * len(cost.sizes.CONTAINERS)


def test_60_second_aggregation_and_reject_only_change_record_counts():
    counts = cost.record_counts().set_index(["aggregation", "traffic_type"])
    assert counts.loc[(60, "ALL"), "records"] > counts.loc[(600, "ALL"), "records"]
    assert counts.loc[(60, "ALL"), "records_per_flow"] > counts.loc[(600, "ALL"),
                                                                   "records_per_flow"] >= 1
    for aggregation in (60, 600):
        accept = counts.loc[(aggregation, "ACCEPT"), "share"]
        reject = counts.loc[(aggregation, "REJECT"), "share"]
        assert 0 < reject < accept and accept + reject <= 1


# --- the model ---------------------------------------------------------------------------------


def test_the_breakdown_carries_region_source_and_date_and_adds_up():
    df = cost.estimate_cost(flows_per_second=20, scanned_gb_per_day=1, nat_gateways=1,
                            nat_gb_per_day=5)
    assert list(df.columns) == list(cost.model.BREAKDOWN_COLUMNS)
    assert df.component.iloc[-1] == "total"
    assert total(df) == pytest.approx(parts(df).cost_usd.sum())
    body = parts(df)
    assert (body.region == SEOUL).all() and body.source.str.startswith("https://").all()
    assert (body.as_of != "").all()
    hours = row(df, "nat_gateway_hour")
    assert hours.quantity == 730 and hours.cost_usd == pytest.approx(730 * hours.price)


def test_delivery_volume_is_records_times_measured_bytes():
    sizes = cost.measure_sizes("default")
    df = cost.estimate_cost(records_per_day=1e6, sizes=sizes)
    delivery = row(df, "cwl_vended_delivery")
    gb = 1e6 * sizes.bytes_per_record["cloudwatch"] / BYTES_PER_GB * 730 / 24
    assert delivery.quantity == pytest.approx(gb)
    assert delivery.cost_usd == pytest.approx(gb * 0.76)
    stored = row(df, "cwl_storage")
    assert stored.quantity == pytest.approx(gb / (730 / 24) * 30 * cost.model.CWL_ARCHIVE_RATIO)


def test_bytes_per_day_and_records_per_day_agree():
    sizes = cost.measure_sizes("default")
    by_records = cost.estimate_cost(records_per_day=5e5)
    by_bytes = cost.estimate_cost(bytes_per_day=5e5 * sizes.bytes_per_record["cloudwatch"])
    assert total(by_bytes) == pytest.approx(total(by_records))


@pytest.mark.parametrize("settings", [
    {},
    {"destination": "s3"},
    {"destination": "s3", "file_format": "parquet", "storage_class": "STANDARD_IA"},
])
def test_the_model_grows_with_volume(settings):
    totals = [total(cost.estimate_cost(records_per_day=n, **settings))
              for n in (0, 1e3, 1e6, 1e8, 1e10)]  # up to ~40 TB a month: past two tier bounds
    assert totals[0] == 0
    assert all(a < b for a, b in zip(totals, totals[1:]))


@pytest.mark.parametrize("destination, days", [
    ("cloud-watch-logs", cost.CWL_RETENTION_DAYS),
    ("s3", (1, 7, 30, 90, 365, 3650)),
])
def test_the_model_grows_with_retention(destination, days):
    totals = [total(cost.estimate_cost(records_per_day=1e6, destination=destination,
                                       retention_days=d)) for d in days]
    assert all(a < b for a, b in zip(totals, totals[1:]))


def test_the_levers_of_the_lesson():
    base = dict(flows_per_second=50)
    cwl = total(cost.estimate_cost(**base))
    assert total(cost.estimate_cost(**base, destination="s3")) < cwl
    assert total(cost.estimate_cost(**base, log_format="lesson")) < cwl
    assert total(cost.estimate_cost(**base, traffic_type="REJECT")) < cwl
    assert total(cost.estimate_cost(**base, aggregation=60)) > cwl
    assert total(cost.estimate_cost(**base, retention_days=7)) < cwl
    share = total(cost.estimate_cost(**base, traffic_type="REJECT", traffic_share=0.5))
    assert share == pytest.approx(cwl / 2, rel=0.01)  # tiers are linear below 10 TB


def test_a_measured_volume_is_rescaled_to_the_aggregation_interval():
    sizes = cost.measure_sizes("default")
    at_600 = row(cost.estimate_cost(records_per_day=1e6), "cwl_vended_delivery").quantity
    at_60 = row(cost.estimate_cost(records_per_day=1e6, aggregation=60),
                "cwl_vended_delivery").quantity
    assert at_60 / at_600 == pytest.approx(sizes.aggregation_factor(60, 600))
    same = row(cost.estimate_cost(records_per_day=1e6, aggregation=60,
                                  measured_aggregation=60), "cwl_vended_delivery").quantity
    assert same == pytest.approx(at_600)


def athena_tb(scanned_gb_per_day, queries_per_day) -> float:
    df = cost.estimate_cost(records_per_day=1e3, destination="s3",
                            scanned_gb_per_day=scanned_gb_per_day,
                            queries_per_day=queries_per_day)
    return row(df, "athena_scan").quantity


@pytest.mark.parametrize("mb_per_query, queries, billed_mb", [
    (1, 100, 10),        # each tiny query is billed 10 MB
    (100, 1, 100),
    (10, 3, 10),         # exactly the minimum
    (10.5, 2, 11),       # rounded up to the MB
    (0, 4, 10),          # a query that scans nothing still pays 10 MB
])
def test_athena_bills_at_least_10_mb_per_query(mb_per_query, queries, billed_mb):
    gb_per_day = mb_per_query * queries * BYTES_PER_MB / BYTES_PER_GB
    expected_tb = billed_mb * queries * cost.DAYS_PER_MONTH * BYTES_PER_MB / BYTES_PER_TB
    assert athena_tb(gb_per_day, queries) == pytest.approx(expected_tb)


def test_standard_ia_bills_30_days_at_least():
    seven = row(cost.estimate_cost(records_per_day=1e6, destination="s3", retention_days=7,
                                   storage_class="STANDARD_IA"), "s3_standard_ia_storage")
    thirty = row(cost.estimate_cost(records_per_day=1e6, destination="s3", retention_days=30,
                                    storage_class="STANDARD_IA"), "s3_standard_ia_storage")
    assert seven.quantity == pytest.approx(thirty.quantity)
    assert "30-day minimum" in seven.note


def test_parquet_adds_a_conversion_charge_on_the_delivered_volume():
    df = cost.estimate_cost(records_per_day=1e6, destination="s3", file_format="parquet")
    assert row(df, "s3_parquet_conversion").quantity == \
        pytest.approx(row(df, "s3_vended_delivery").quantity)


def test_the_us_east_1_table_is_used_for_us_east_1():
    df = cost.estimate_cost(records_per_day=1e6, region=VIRGINIA)
    assert (parts(df).region == VIRGINIA).all()
    assert row(df, "cwl_vended_delivery").price == 0.5


# --- bad inputs, every public function --------------------------------------------------------


def _estimate(**kwargs):
    return lambda: cost.estimate_cost(**{"records_per_day": 1e5, **kwargs})


BAD_INPUTS = [
    # (call, words the message must contain)
    (lambda: cost.prices("ap-northeast-3"), "region"),
    (lambda: cost.prices("ap-northeast2"), "did you mean 'ap-northeast-2'"),
    (lambda: cost.prices(SEOUL, overrides={"cwl_storag": 0.1}), "did you mean 'cwl_storage'"),
    (lambda: cost.prices(SEOUL, overrides={"cwl_storage": -1}), "overrides['cwl_storage']"),
    (lambda: cost.prices(SEOUL, overrides={"cwl_storage": math.nan}), "overrides"),
    (lambda: cost.prices(SEOUL, overrides={"s3_vended_delivery": [0.1, 0.2]}), "4 tier"),
    (lambda: cost.prices(SEOUL, overrides=[("cwl_storage", 1)]), "overrides"),
    (lambda: cost.tiers("cwl_vended", region=SEOUL), "item"),
    (lambda: cost.tiers("cwl_storage", region="mars-1"), "region"),
    (lambda: cost.tiered_cost(-1, SEOUL_CWL), "quantity"),
    (lambda: cost.tiered_cost(math.inf, SEOUL_CWL), "quantity"),
    (lambda: cost.tiered_cost(1, [(1, None, 0.5)]), "tiers[0]"),
    (lambda: cost.tiered_cost(1, [(0, 5, 0.5), (6, None, 0.2)]), "tiers[1]"),
    (lambda: cost.tiered_cost(9, [(0, 5, 0.5)]), "quantity"),
    (lambda: cost.tiered_cost(1, []), "tiers"),
    (lambda: cost.measure_sizes("defualt"), "log_format"),
    (lambda: cost.measure_sizes("${srcaddr} ${nope}"), "log_format"),
    (lambda: cost.measure_sizes("${srcaddr} ${ecs-cluster-name}"), "log_format"),
    (lambda: cost.measure_sizes("default", scenarios=["no_such_scenario"]), "scenario"),
    (lambda: cost.size_table(["default", 7]), "log_format"),
    (lambda: cost.record_counts(duration="-1h"), "duration"),
    (lambda: cost.measure_sizes("default").share("ALLOW"), "traffic_type"),
    (lambda: cost.measure_sizes("default").records_per_flow(300), "aggregation"),
    (lambda: cost.estimate_cost(), "exactly one way"),
    (lambda: cost.estimate_cost(records_per_day=1, bytes_per_day=1), "exactly one way"),
    (_estimate(records_per_day=-5), "records_per_day"),
    (lambda: cost.estimate_cost(flows_per_second=-1), "flows_per_second"),
    (lambda: cost.estimate_cost(bytes_per_day=math.nan), "bytes_per_day"),
    (_estimate(records_per_day="many"), "records_per_day"),
    (_estimate(region="eu-west-9"), "region"),
    (_estimate(destination="kinesis"), "destination"),
    (_estimate(destination="S3"), "destination"),
    (_estimate(traffic_type="DENY"), "traffic_type"),
    (_estimate(log_format="v5"), "log_format"),
    (_estimate(retention_days=10), "retention_days"),
    (_estimate(retention_days=None), "retention_days"),
    (_estimate(destination="s3", retention_days=0), "retention_days"),
    (_estimate(destination="s3", retention_days=1.5), "retention_days"),
    (_estimate(aggregation=300), "aggregation"),
    (_estimate(measured_aggregation=120), "measured_aggregation"),
    (_estimate(file_format="parquet"), "file_format"),
    (_estimate(destination="s3", file_format="orc"), "file_format"),
    (_estimate(destination="s3", storage_class="GLACIER"), "storage_class"),
    (_estimate(storage_class="STANDARD_IA"), "storage_class"),
    (_estimate(traffic_type="REJECT", traffic_share=1.5), "traffic_share"),
    (_estimate(traffic_share=0.5), "traffic_share"),
    (_estimate(scanned_gb_per_day=-1), "scanned_gb_per_day"),
    (_estimate(destination="s3", scanned_gb_per_day=1), "queries_per_day"),
    (_estimate(queries_per_day=-2), "queries_per_day"),
    (_estimate(nat_gateways=1.5), "nat_gateways"),
    (_estimate(nat_gb_per_day=3), "nat_gb_per_day"),
    (_estimate(archive_ratio=-0.1), "archive_ratio"),
    (_estimate(price_table="cheap"), "price_table"),
    (_estimate(price_table=pd.DataFrame({"item": []})), "price_table"),
    (_estimate(sizes={"cloudwatch": 100}), "sizes"),
    (_estimate(log_format="lesson", sizes=cost.measure_sizes("default")), "log_format"),
]


@pytest.mark.parametrize("call, words", BAD_INPUTS,
                         ids=[f"{i}-{w[:24]}" for i, (_, w) in enumerate(BAD_INPUTS)])
def test_bad_inputs_raise_a_course_error_naming_the_argument(call, words):
    with pytest.raises(CourseError) as info:
        call()
    assert words in str(info.value)
