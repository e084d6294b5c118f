"""Database access: engine, typed models, named queries."""
