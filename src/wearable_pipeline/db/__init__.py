"""Database access: resolving the connection (embedded or `DATABASE_URL`) and migrations."""

from wearable_pipeline.db.connection import connect, connection_parts, resolve_database_url
from wearable_pipeline.db.migrate import migrate

__all__ = ["connect", "connection_parts", "migrate", "resolve_database_url"]
