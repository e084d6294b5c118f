"""Conveyor: an async job engine with a REST facade."""
