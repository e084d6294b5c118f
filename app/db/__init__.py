"""Database access: engine, the Database session provider, typed models, named queries."""
