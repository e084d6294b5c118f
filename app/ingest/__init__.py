"""Ingest library: sniff an uploaded file, preview it, and stream it into Parquet (no HTTP, no database)."""

from app.ingest.config import ColumnSpec, DuckDBSettings, ImportConfig, ImportLimits
from app.ingest.importer import import_file
from app.ingest.models import ImportResult, Preview
from app.ingest.preview import preview
from app.ingest.sniff import safe_display_name, sniff

__all__ = [
    "ColumnSpec",
    "DuckDBSettings",
    "ImportConfig",
    "ImportLimits",
    "ImportResult",
    "Preview",
    "import_file",
    "preview",
    "safe_display_name",
    "sniff",
]
