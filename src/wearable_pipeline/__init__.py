"""wearable-data-pipeline: wearable CSV drops and analytics events into PostgreSQL, then dbt."""

__version__ = "0.1.0"
