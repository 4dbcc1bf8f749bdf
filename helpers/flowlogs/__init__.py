"""VPC Flow Logs records: the field registry, parsing, reading/writing AWS's files and S3
trees, and what a flow log delivers (:mod:`helpers.flowlogs.delivery`)."""

from helpers.errors import (
    FlowLogArgumentError,
    FlowLogFormatError,
    FlowLogParseError,
    FlowLogReadError,
)
from helpers.flowlogs.delivery import FlowLog
from helpers.flowlogs.examples import Example, examples_frame, load_examples
from helpers.flowlogs.fields import (
    DEFAULT_FORMAT,
    FIELDS,
    Field,
    field,
    field_table,
    format_string,
    format_version,
    parse_format,
)
from helpers.flowlogs.io import (
    PARTITION_COLUMNS,
    arrow_schema,
    format_lines,
    read,
    write_parquet,
    write_text,
)
from helpers.flowlogs.parse import add_times, parse_lines
from helpers.flowlogs.tree import DEFAULT_FLOW_LOG_ID, check_flow_log_id, write_tree

__all__ = [
    "DEFAULT_FLOW_LOG_ID",
    "DEFAULT_FORMAT",
    "Example",
    "FIELDS",
    "PARTITION_COLUMNS",
    "Field",
    "FlowLog",
    "FlowLogArgumentError",
    "FlowLogFormatError",
    "FlowLogParseError",
    "FlowLogReadError",
    "add_times",
    "arrow_schema",
    "check_flow_log_id",
    "examples_frame",
    "field",
    "field_table",
    "format_lines",
    "format_string",
    "format_version",
    "load_examples",
    "parse_format",
    "parse_lines",
    "read",
    "write_parquet",
    "write_text",
    "write_tree",
]
