"""Scheduling library: cron parsing, DST-correct fire times, misfire/overlap planning, deployment spec and
policy types. Shared by the API (validation, previews) and the scheduler process (no HTTP, no broker)."""
