"""`wearable report`: one self-contained HTML file with the charts a study team looks at.

`data` reads the marts and the ingestion records (psycopg row factories), `charts` turns
them into plotly figures, `page` renders the file with plotly.js inlined, so it opens
offline, without a server. `period` picks the days to show and `rules` reads the numbers
the charts quote (valid day, baseline, anomaly rule) from the dbt project, which owns them.
"""

from wearable_pipeline.report.page import ReportOptions, WrittenReport, write_report
from wearable_pipeline.report.period import Period, PeriodError

__all__ = ["Period", "PeriodError", "ReportOptions", "WrittenReport", "write_report"]
