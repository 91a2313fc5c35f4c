"""Tests of CSV ingestion (issue 2)."""
