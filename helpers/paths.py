"""Where the course's files live, whatever the notebook's working folder."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SAMPLE_TEXT = DATA / "sample-flowlogs.log.gz"
SAMPLE_PARQUET = DATA / "sample-flowlogs.parquet"
EXAMPLES = DATA / "aws-example-records.txt"
