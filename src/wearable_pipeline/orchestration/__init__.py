"""Orchestration: the Prefect flow and its tasks, run records, the resident Prefect server,
running on a schedule or when files land, and the demo."""
