"""The bottom layer: domain errors, run states and transitions' vocabulary, ids (imports nothing of app)."""
