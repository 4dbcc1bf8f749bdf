"""The committed sample under data/ is exactly what its seeded command writes."""

from __future__ import annotations

import gzip

import pandas as pd
import pyarrow.parquet as pq
from conftest import ROOT

from helpers import flowlogs, sample, traffic


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
    df = sample_records.dropna(subset=["action"])
    private = traffic.default_topology().interface("private").eni_id
    assert set(sample_records["log_status"]) == {"OK", "NODATA", "SKIPDATA"}
    assert set(sample_records["version"]) == {2}  # the default format's version
    on_private = df[(df.interface_id == private) & (df.srcaddr == "10.0.1.100")]
    blocked = on_private[on_private.dstport.isin([3306, 80])]
    assert len(blocked) > 0 and set(blocked["action"]) == {"REJECT"}
    assert set(on_private.loc[on_private.dstport == 22, "action"]) == {"ACCEPT"}
    icmp = df[df.protocol == 1]
    assert len(icmp) > 0 and (icmp.srcport == 0).all() and (icmp.dstport == 0).all()
