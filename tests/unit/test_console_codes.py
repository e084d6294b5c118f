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
RUN_ONLY = {"cancelled", "timeout", "worker_shutdown", "worker_lost", "internal_error", "database_unavailable"}
GENERIC = {"validation_failed", "not_found", "conflict", "unavailable"}


def _listed(name: str, ts: pathlib.Path = ENUMS_TS) -> list[str]:
    """The codes of the console's list `name` (`NAME = [...] as const` in `ts`), comments left out."""
    found = re.search(rf"{name} = \[(.*?)\] as const", ts.read_text(), re.S)
    assert found, f"{name} not found in {ts}"
    return re.findall(r"'([a-z_.]+)'", re.sub(r"//[^\n]*", "", found.group(1)))


def _console_list(name: str) -> set[str]:
    return set(_listed(name))


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


def test_the_audit_logs_type_filter_offers_every_audited_resource_type() -> None:
    text = _sources("app/domain", "app/api")
    written = set(re.findall(r'resource_type\s*=\s*"([a-z_]+)"', text))
    written |= set(re.findall(r'audit_resource_type[^=\n]*=\s*"([a-z_]+)"', text))  # request.state.audit_resource_type
    assert set(_listed("AUDIT_RESOURCE_TYPES", SETTINGS_LOGIC_TS)) == written


SETTINGS_LOGIC_TS = ROOT / "app" / "console" / "src" / "settings" / "logic.ts"
NOTICES_TS = ROOT / "app" / "console" / "src" / "i18n" / "notices.ts"


def test_the_console_words_every_code_a_preview_an_import_or_a_run_log_line_can_carry() -> None:
    from app.api.notice_schemas import LOG_KINDS
    from app.ingest.notices import CODES

    listed = _listed("NOTICE_CODES", NOTICES_TS)
    assert len(listed) == len(set(listed))
    log_codes = {kind.__struct_config__.tag for kind in LOG_KINDS}
    assert set(listed) == set(CODES) | log_codes


def test_every_reason_a_run_event_is_written_with_is_an_event_reason() -> None:
    """The timeline's reasons are an enum of the API (the console words each); a new one written anywhere fails
    here until it is added to EventReason (and so to the console's words, which the compiler checks)."""
    from app.core.states import EventReason

    sql = "\n".join(p.read_text() for p in sorted((ROOT / "sql").rglob("*.*")) if p.suffix in (".sql", ".py"))
    inserts = re.findall(r"INSERT INTO run_events.*?(?:;|\n\s*\)|\n\n)", sql, re.S)  # to the statement's end
    details = r"jsonb_build_object\((?:[^()]|\([^()]*\))*\)"  # an event's details: keys, not reasons
    written = {r for part in inserts for r in re.findall(r"'([a-z_]+)'", re.sub(details, "", part))}
    python = _sources("app/domain", "workers", "scheduler")
    written |= set(re.findall(r'\breason="([a-z_]+)"', python))
    # a reason named by a module's constant (reason=DATASET_DELETED): the string it is set to
    for constant in set(re.findall(r"\breason=([A-Z][A-Z_]+)\b", python)):
        written |= set(re.findall(rf'^{constant} = "([a-z_]+)"$', python, re.M))
    written |= set(re.findall(r'"reason": "([a-z_]+)"', python))
    written |= set(re.findall(r'Outcome\(\s*RunStatus\.\w+,\s*"([a-z_]+)"', python))
    assert written, "no reasons found: the patterns above no longer match the sources"
    assert written - {"true", "false"} <= set(EventReason), written - set(EventReason)
    assert {"created", "dispatched", "started", "failed", "cancel_requested", "worker_lost"} <= written


REASONS_TS = ROOT / "app" / "console" / "src" / "i18n" / "reasons.ts"


def test_the_console_words_every_reason_code_an_occurrence_can_carry() -> None:
    from app.scheduling.reasons import ReasonCode

    listed = _listed("REASON_CODES", REASONS_TS)
    assert len(listed) == len(set(listed))
    assert set(listed) == set(ReasonCode)
