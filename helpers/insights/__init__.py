"""CloudWatch Logs Insights queries, compiled to SQL and run offline (DuckDB) or on Athena.

The pipeline: ``grammar.lark`` → :mod:`parser` (syntax tree of :mod:`ast` nodes) →
:mod:`compiler` (a sqlglot SELECT, one function per command) → :mod:`runner` (DuckDB).
:mod:`athena_table` writes the Athena table over S3 Parquet flow logs. Pure computation: the
same query runs on AWS through ``cloud.query`` (Logs Insights) and ``cloud.athena_query``
(Athena), in :mod:`helpers.aws`. A notebook needs only what is listed here::

    from helpers import insights
    insights.run("stats sum(bytes) as b by srcAddr | sort b desc | limit 10", records)
    print(insights.to_sql("filter action = 'REJECT' | stats count(*) by srcAddr"))
"""

from helpers.errors import (
    InsightsArgumentError,
    InsightsError,
    InsightsFieldWarning,
    InsightsMissingValueWarning,
    InsightsPeriodWarning,
    InsightsSourceWarning,
    InsightsSyntaxError,
    InsightsWarning,
)
from helpers.insights.athena_table import athena_ddl
from helpers.insights.parser import parse
from helpers.insights.runner import run, run_sql, to_sql

__all__ = [
    "InsightsArgumentError",
    "InsightsError",
    "InsightsFieldWarning",
    "InsightsMissingValueWarning",
    "InsightsPeriodWarning",
    "InsightsSourceWarning",
    "InsightsSyntaxError",
    "InsightsWarning",
    "athena_ddl",
    "parse",
    "run",
    "run_sql",
    "to_sql",
]
