"""Where results go. Every sink writes to a temporary file and renames it on `close`, so an output file is either
complete or absent; `abort` removes what was begun."""

from emotrace.sinks.base import RunMeta, Sink, atomic_path
from emotrace.sinks.landmarks import LandmarksSink
from emotrace.sinks.report import ReportSink
from emotrace.sinks.rows import arrow_schema, column_types, pandas_dtypes, result_rows, row_columns
from emotrace.sinks.summary import SummarySink
from emotrace.sinks.table import Tables, TableSink
from emotrace.sinks.timeline import TimelineSink
from emotrace.sinks.video import VideoSink

__all__ = ["LandmarksSink", "ReportSink", "RunMeta", "Sink", "SummarySink", "TableSink", "Tables", "TimelineSink",
           "VideoSink", "arrow_schema", "atomic_path", "column_types", "pandas_dtypes", "result_rows", "row_columns"]
