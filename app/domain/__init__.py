"""Domain services: plain Python used by the API, workers, scheduler and CLI.

They sit above the libraries (app.pipeline, app.ingest, app.scheduling), app.db and app.core, and never
import the API or a process package (import-linter contracts in pyproject.toml)."""
