"""The console words every run error code and audit action the backend writes (else it shows the raw code).

The lists live in app/console/src/i18n/enums.ts, where the compiler checks that both locales have a word for each;
this test checks those lists against the codes found in the backend's source, so a new code fails here.
"""

from __future__ import annotations

import pathlib
import re

from app.domain.webhooks import EVENT_TYPES

ROOT = pathlib.Path(__file__).resolve().parents[2]
ENUMS_TS = ROOT / "app" / "console" / "src" / "i18n" / "enums.ts"

#: Codes of errors that end requests, never runs (a bounded query of the API or a draft's validation).
NOT_RUN_ERRORS = {"query_too_expensive"}
#: What runs fail with that no error class in the folders below declares: the worker's and reaper's own outcomes
#: (workers/outcomes.py, workers/*_job.py, scheduler/reaper.py) and app/core/errors.py's generic domain errors.
RUN_ONLY = {"cancelled", "timeout", "worker_shutdown", "worker_lost", "internal_error"}
GENERIC = {"validation_failed", "not_found", "conflict", "unavailable"}


def _console_list(name: str) -> set[str]:
    found = re.search(rf"{name} = \[(.*?)\] as const", ENUMS_TS.read_text(), re.S)
    assert found, f"{name} not found in {ENUMS_TS}"
    return set(re.findall(r"'([a-z_.]+)'", re.sub(r"//[^\n]*", "", found.group(1))))


def _sources(*folders: str) -> str:
    return "\n".join(p.read_text() for folder in folders for p in sorted((ROOT / folder).rglob("*.py")))


def test_the_console_words_every_code_a_run_can_fail_with() -> None:
    text = _sources("app/ingest", "app/pipeline", "app/storage", "workers", "scheduler")
    declared = set(re.findall(r'\bcode(?:, title)?\s*=\s*(?:\d+,\s*)?"([a-z_]+)"', text))
    declared |= set(re.findall(r'\bcode="[a-z_]+"\s+if\s+\w+\s+else\s+"([a-z_]+)"', text))
    assert not RUN_ONLY - set(re.findall(r'"([a-z_]+)"', _sources("workers", "scheduler")))
    assert _console_list("RUN_ERROR_CODES") == (declared - NOT_RUN_ERRORS) | RUN_ONLY | GENERIC


def test_the_console_words_every_audited_action() -> None:
    text = _sources("app/domain", "app/api/controllers")
    # Webhook event types (`run.failed`, the test delivery's `webhook.test`) are dotted too, with singular areas.
    event_areas = {event.split(".")[0] for event in EVENT_TYPES} | {"webhook"}
    actions = {a for a in re.findall(r'"([a-z]+\.[a-z_]+)"', text) if a.split(".")[0] not in event_areas}
    assert _console_list("AUDIT_ACTIONS") == actions


NOTICES_TS = ROOT / "app" / "console" / "src" / "i18n" / "notices.ts"


def test_the_console_words_every_code_a_preview_or_an_import_notice_can_carry() -> None:
    from app.ingest.notices import CODES

    found = re.search(r"NOTICE_CODES = \[(.*?)\] as const", NOTICES_TS.read_text(), re.S)
    assert found, f"NOTICE_CODES not found in {NOTICES_TS}"
    listed = re.findall(r"'([a-z_]+)'", re.sub(r"//[^\n]*", "", found.group(1)))
    assert len(listed) == len(set(listed))
    assert set(listed) == set(CODES)
