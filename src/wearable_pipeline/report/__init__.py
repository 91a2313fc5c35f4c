"""`wearable report`: one self-contained HTML file with the charts a study team looks at.

`data` reads the marts and the ingestion records (psycopg row factories), `charts` turns
them into plotly figures, `page` renders the file with plotly.js inlined, so it opens
offline, without a server (`page.write_report` is the entry point). `period` picks the days
to show and `rules` reads the numbers the charts quote (valid day, baseline, anomaly rule)
from the dbt project, which owns them.

Nothing is imported here: plotly takes a while to import, and every `wearable` command
imports this package's command module.
"""
