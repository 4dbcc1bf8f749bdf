"""The committed sample under data/ is exactly what its seeded command writes."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow.parquet as pq
from conftest import ROOT

from helpers import flowlogs, sample


def test_committed_sample_is_reproducible(tmp_path):
    sample.write(tmp_path, seed=0)
    name = sample.SAMPLE_NAME
    committed, fresh = ROOT / "data", tmp_path
    assert gzip.decompress((fresh / f"{name}.log.gz").read_bytes()) == \
        gzip.decompress((committed / f"{name}.log.gz").read_bytes())
    assert pq.read_table(fresh / f"{name}.parquet").equals(
        pq.read_table(committed / f"{name}.parquet"))


def test_sample_text_and_parquet_hold_the_same_records():
    text = flowlogs.read(ROOT / "data" / f"{sample.SAMPLE_NAME}.log.gz")
    parquet = flowlogs.read(ROOT / "data" / f"{sample.SAMPLE_NAME}.parquet")
    pd.testing.assert_frame_equal(text, parquet)


def test_a_different_seed_gives_different_records():
    assert not sample.build(seed=1).equals(sample.build(seed=0))


def test_sample_has_what_the_lesson_talks_about(sample_records):
    df = sample_records
    assert set(df["log_status"]) == {"OK", "NODATA", "SKIPDATA"}
    blocked = df[(df.dstaddr == "10.0.11.50") & df.dstport.isin([3306, 80])]
    assert len(blocked) > 0 and set(blocked["action"]) == {"REJECT"}
    ssh = df[(df.dstaddr == "10.0.11.50") & (df.dstport == 22)]
    assert set(ssh["action"]) == {"ACCEPT"}
    icmp = df[df.protocol == 1]
    assert (icmp.srcport == 0).all() and (icmp.dstport == 0).all()
