"""VPC Flow Logs records: the field registry, parsing, and reading/writing AWS's files."""

from helpers.errors import FlowLogFormatError, FlowLogParseError, FlowLogReadError
from helpers.flowlogs.examples import Example, load_examples
from helpers.flowlogs.fields import (
    DEFAULT_FORMAT,
    FIELDS,
    Field,
    field,
    field_table,
    format_string,
    parse_format,
)
from helpers.flowlogs.io import PARTITION_COLUMNS, arrow_schema, read, write_parquet, write_text
from helpers.flowlogs.parse import parse_lines

__all__ = [
    "DEFAULT_FORMAT",
    "Example",
    "FIELDS",
    "PARTITION_COLUMNS",
    "Field",
    "FlowLogFormatError",
    "FlowLogParseError",
    "FlowLogReadError",
    "arrow_schema",
    "field",
    "field_table",
    "format_string",
    "load_examples",
    "parse_format",
    "parse_lines",
    "read",
    "write_parquet",
    "write_text",
]
