"""A run's parameters checked at submit, by the rule the worker applies when the run starts.

POST /runs, the batch submit, a deployment's trigger and a deployment's own params took any values and a bad
one failed the run later (invalid_pipeline_params in the worker). The rule is the engine's own,
app.pipeline.params.resolve, with the worker's one exemption (workers/pipeline_job.py): a pipeline that declares
no parameters ignores those it is given. A version's declared parameters never change, so each process reads them
once per (pipeline, version): a submit on the hot path pays no extra query after the first.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from sqlalchemy.orm import Session

from app.core.errors import InvalidInput
from app.db.queries import query
from app.pipeline import params as pipeline_params
from app.pipeline.steps import ParamSpec

logger = logging.getLogger(__name__)

#: Largest parameters of one run or deployment, as JSON. Every list page echoes them (500 runs a page): 20 runs
#: with 9 MB of params each (within the body limit) made one GET /runs 180 MB and raised the API's memory by 480 MB.
MAX_PARAMS_BYTES = 64 * 1024
#: Declared parameters by (pipeline, version); cleared when it holds this many.
_DECLARED: dict[tuple[uuid.UUID, int], dict[str, ParamSpec]] = {}
_KEPT = 4096


def declared_params(session: Session, pipeline_id: uuid.UUID, version: int) -> dict[str, ParamSpec] | None:
    """The parameters the version declares; None when it does not exist or its spec cannot say (the worker then
    reports whatever is wrong, as before)."""
    key = (pipeline_id, version)
    if key in _DECLARED:
        return _DECLARED[key]
    row = session.execute(query("pipeline_version_params"), {"pipeline_id": pipeline_id, "version": version}).first()
    if row is None:
        return None
    try:
        declared = msgspec.convert(row.params or {}, dict[str, ParamSpec])
    except msgspec.ValidationError as exc:
        logger.warning("pipeline %s version %s: params not checked at submit: %s", pipeline_id, version, exc)
        return None
    if len(_DECLARED) >= _KEPT:
        _DECLARED.clear()
    _DECLARED[key] = declared
    return declared


def check_size(given: Any, *, field: str, what: str = "the parameters") -> None:
    """InvalidInput (422 `params_too_large`, naming `field`) for a value past MAX_PARAMS_BYTES as JSON: a run's
    parameters, or an import's configuration (stored as its run's params)."""
    size = len(msgspec.json.encode(given))
    if size > MAX_PARAMS_BYTES:
        message = f"{what}: {size} bytes as JSON; at most {MAX_PARAMS_BYTES} are accepted"
        raise InvalidInput(message, code="params_too_large", errors=[{"field": field, "message": message}])


def check_params(
    session: Session, pipeline_id: uuid.UUID, version: int, given: Mapping[str, Any], *, field: str = ""
) -> None:
    """InvalidPipelineParams (422) naming each bad parameter, as the run would have failed; `field` prefixes each
    error's field (`runs[3].` in a batch), so the caller can tell which item is wrong. Parameters past
    MAX_PARAMS_BYTES are InvalidInput (422 `params_too_large`), whatever the pipeline declares."""
    check_size(given, field=f"{field}params")
    declared = declared_params(session, pipeline_id, version)
    if declared is None or pipeline_params.ignored(declared):
        return
    try:
        pipeline_params.resolve(declared, given)
    except pipeline_params.InvalidPipelineParams as exc:
        if not field:
            raise
        errors = [{**error, "field": f"{field}{error['field']}"} for error in exc.errors]
        raise pipeline_params.InvalidPipelineParams(f"{field}{exc.detail}", errors=errors) from None
