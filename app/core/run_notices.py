"""What Conveyor itself writes in a run's log (not a pipeline's own `log` steps), as notices: a stable code with
typed parameters beside the English line, so a console words it in its language (see app.core.notices).

The line's text is still the English `message`; `note(...)` gives it with its notice attached, and the log writer
stores the notice with the line (app.domain.runlog_buffer).
"""

from __future__ import annotations

from app.core.notices import Notice


class AttemptStarted(Notice, tag="attempt_started"):
    attempt: int
    worker: str

    def text(self) -> str:
        return f"attempt {self.attempt} started on {self.worker}"


class LeaseLost(Notice, tag="lease_lost"):
    def text(self) -> str:
        return "this worker lost the run's lease; another attempt owns it now"


class RetryScheduled(Notice, tag="retry_scheduled"):
    attempt: int
    reason: str
    error: str | None
    delay_seconds: float

    def text(self) -> str:
        error = f": {self.error}" if self.error else ""
        return f"attempt {self.attempt} {self.reason}{error}; retrying in {self.delay_seconds:.1f} s"


class AttemptEnded(Notice, tag="attempt_ended"):
    status: str
    elapsed_ms: int
    error: str | None

    def text(self) -> str:
        return f"{self.status} in {self.elapsed_ms} ms" + (f": {self.error}" if self.error else "")


class InputPinned(Notice, tag="input_pinned"):
    input: str
    dataset: str
    version: int

    def text(self) -> str:
        return f"input {self.input}: dataset {self.dataset} version {self.version}"


class InputRead(Notice, tag="input_read"):
    input: str
    dataset: str
    version: int
    rows: int

    def text(self) -> str:
        return f"input {self.input}: dataset {self.dataset} version {self.version}, {self.rows:,} rows"


class ParamsIgnored(Notice, tag="params_ignored"):
    params: list[str]

    def text(self) -> str:
        return f"parameters ignored, the pipeline declares none: {', '.join(self.params)}"


class StepDone(Notice, tag="step_done"):
    """A pipeline step ran: rows in and out (None when not known, or for an action step)."""

    step: int
    steps: int
    id: str
    type: str
    how: str | None
    rows_in: int | None
    rows_out: int | None
    duration_ms: int

    def text(self) -> str:
        head = f"step {self.step}/{self.steps} {self.id} ({self.type}"
        if self.how is None:
            return f"{head}) done in {self.duration_ms} ms"
        rows_in = "?" if self.rows_in is None else f"{self.rows_in:,}"
        rows_out = "?" if self.rows_out is None else f"{self.rows_out:,}"
        return f"{head}, {self.how}): {rows_in} → {rows_out} rows in {self.duration_ms} ms"


def rule_outcome(rule: str, found: int, low: int | None = None, high: int | None = None) -> str:
    """What checking a `validate` rule found, in English (a rule report's `message`, the end of its log line):
    `found` is the rows breaking it (duplicate rows for `unique`), for `row_count` the row count, which must lie in
    [low, high]."""
    if rule == "row_count":
        return f"{found} rows, expected [{'' if low is None else low}, {'' if high is None else high}]"
    if not found:
        return "passed"
    return f"{found} duplicate rows" if rule == "unique" else f"{found} rows break it"


class RuleChecked(Notice, tag="rule_checked"):
    """A `validate` step checked one rule: its verdict and what it found (see rule_outcome; `min` and `max` are the
    bounds of a `row_count` rule). The rule's name and severity are the spec's own words."""

    step: str
    rule: str
    columns: list[str]
    severity: str
    passed: bool
    found: int
    min: int | None = None
    max: int | None = None

    def text(self) -> str:
        columns = f"({', '.join(self.columns)})" if self.columns else ""
        outcome = rule_outcome(self.rule, self.found, self.min, self.max)
        return f"validate {self.step}: {self.rule}{columns} [{self.severity}]: {outcome}"


class Sleeping(Notice, tag="sleeping"):
    seconds: float

    def text(self) -> str:
        return f"sleeping {self.seconds:g} s"


class OutputCopied(Notice, tag="output_copied"):
    """The output was copied from the relation that holds it (its last step did not stream into the file)."""

    rows: int
    relation: str
    duration_ms: int

    def text(self) -> str:
        return f"output: {self.rows:,} rows from {self.relation} written in {self.duration_ms} ms"


class OutputWritten(Notice, tag="output_written"):
    rows: int
    bytes: int

    def text(self) -> str:
        return f"output: {self.rows:,} rows, {self.bytes:,} bytes"


class OutputVersion(Notice, tag="output_version"):
    output: str
    version: int
    rows: int
    columns: int

    def text(self) -> str:
        return f"output {self.output} version {self.version}: {self.rows} rows, {self.columns} columns"


class Importing(Notice, tag="importing"):
    file: str
    bytes: int
    #: The configuration as given (its set keys), or None when every setting is inferred from the file.
    config: str | None

    def text(self) -> str:
        return f"importing {self.file} ({self.bytes} bytes); configuration {self.config or 'inferred from the file'}"


class ImportVersion(Notice, tag="import_version"):
    version: int
    rows: int
    columns: int
    rejected: int
    parquet_bytes: int

    def text(self) -> str:
        return (
            f"version {self.version}: {self.rows} rows, {self.columns} columns, {self.rejected} rejected, "
            f"{self.parquet_bytes} bytes of Parquet"
        )


class ImportFailedLine(Notice, tag="import_failed"):
    error_code: str
    error: str

    def text(self) -> str:
        return f"import failed ({self.error_code}): {self.error}"


#: Every kind of line Conveyor writes in a run's log.
RUN_LOG_KINDS: tuple[type[Notice], ...] = (
    AttemptStarted,
    LeaseLost,
    RetryScheduled,
    AttemptEnded,
    InputPinned,
    InputRead,
    ParamsIgnored,
    StepDone,
    RuleChecked,
    Sleeping,
    OutputCopied,
    OutputWritten,
    OutputVersion,
    Importing,
    ImportVersion,
    ImportFailedLine,
)
