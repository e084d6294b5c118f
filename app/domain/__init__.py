"""Domain services: plain Python used by the API, workers, scheduler and CLI."""
