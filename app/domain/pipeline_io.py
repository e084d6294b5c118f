"""Running a pipeline: its inputs resolved to dataset versions (pinned on the run), its output dataset found or made."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import msgspec
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict, InvalidInput
from app.core.ids import MAX_VERSION, uuid7
from app.core.states import RunKind
from app.db.datasets import Dataset, DatasetVersion
from app.db.models import Pipeline, Run
from app.domain import audit
from app.domain.dataset_writes import begin_write
from app.domain.datasets import DatasetDeleted
from app.domain.permissions import Permission, Principal
from app.domain.runs import insert_run
from app.settings import Settings


class InputChoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    dataset: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    version: Annotated[int, msgspec.Meta(ge=1, le=MAX_VERSION)] | None = None


class PipelineRunIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Run a pipeline now: parameter values, and inputs chosen from the data center (a dataset id or name)."""

    params: dict[str, Any] = msgspec.field(default_factory=dict)
    inputs: dict[str, str | InputChoice] = msgspec.field(default_factory=dict)
    version: Annotated[int, msgspec.Meta(ge=1, le=MAX_VERSION)] | None = None
    max_retries: Annotated[int, msgspec.Meta(ge=0, le=100)] | None = None
    timeout_seconds: Annotated[int, msgspec.Meta(ge=1)] | None = None
    priority: Annotated[int, msgspec.Meta(ge=-100, le=100)] = 0


def _field(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, errors=[{"field": field, "message": message}])


def find_dataset(session: Session, reference: str, namespace_id: uuid.UUID) -> Dataset | None:
    """A live dataset by id, or by name in the namespace."""
    try:
        found = session.get(Dataset, uuid.UUID(reference))
    except ValueError:
        found = session.scalar(
            select(Dataset).where(
                Dataset.namespace_id == namespace_id, Dataset.name == reference, Dataset.deleted_at.is_(None)
            )
        )
    return found if found is not None and found.deleted_at is None else None


def resolve_inputs(
    session: Session,
    spec: dict[str, Any],
    overrides: dict[str, str | InputChoice],
    *,
    namespace_id: uuid.UUID,
    principal: Principal | None,
) -> dict[str, dict[str, Any]]:
    """Each input of the spec (or its override) as {dataset_id, version, name}: readable, with that version."""
    declared: dict[str, dict[str, Any]] = spec.get("inputs") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise _field(f"inputs.{unknown[0]}", f"the pipeline has no input named {unknown[0]!r}", "unknown_input")
    pinned: dict[str, dict[str, Any]] = {}
    for name, wanted in declared.items():
        choice = overrides.get(name)
        if isinstance(choice, str):
            reference, version = choice, None
        elif choice is not None:
            reference, version = choice.dataset, choice.version
        else:
            reference, version = str(wanted.get("dataset", "")), wanted.get("version")
        dataset = find_dataset(session, reference, namespace_id)
        if dataset is not None and (
            # With nobody to ask (a worker resolving a run submitted unpinned), only the run's own namespace is
            # readable: an id would otherwise reach any namespace's data.
            dataset.namespace_id != namespace_id
            if principal is None
            else not principal.may(Permission.DATASETS_READ, dataset.namespace_id)
        ):
            dataset = None
        if dataset is None:
            raise _field(f"inputs.{name}", f"dataset {reference!r} does not exist", "input_not_found")
        number = version or dataset.current_version
        if number is None or session.get(DatasetVersion, (dataset.id, number)) is None:
            what = f"version {number}" if version else "an imported version"
            raise _field(f"inputs.{name}", f"dataset {dataset.name!r} has no {what}", "input_not_ready")
        pinned[name] = {"dataset_id": str(dataset.id), "version": number, "name": dataset.name}
    return pinned


def submit(
    session: Session,
    pipeline: Pipeline,
    body: PipelineRunIn,
    spec: dict[str, Any],
    *,
    version: int,
    principal: Principal,
    settings: Settings,
    audit_as: audit.AuditContext,
) -> uuid.UUID:
    """A pipeline run with its inputs pinned, its first event and its outbox row (audited here)."""
    principal.require(Permission.RUNS_OPERATE, pipeline.namespace_id, resource="pipeline")
    inputs = resolve_inputs(session, spec, body.inputs, namespace_id=pipeline.namespace_id, principal=principal)
    defaults = spec.get("defaults") or {}
    timeout = body.timeout_seconds or defaults.get("timeout_seconds") or settings.default_timeout_seconds
    retries = body.max_retries if body.max_retries is not None else defaults.get("max_retries")
    run_id = insert_run(
        session,
        settings=settings,
        principal=principal,
        namespace_id=pipeline.namespace_id,
        kind=RunKind.PIPELINE,
        params=body.params,
        max_retries=retries,
        timeout_seconds=timeout,  # run_row refuses one past settings.max_timeout_seconds
        priority=body.priority,
        pipeline_id=str(pipeline.id),
        pipeline_version=version,
        inputs=inputs,
    )
    audit.record(
        session,
        audit_as,
        action="pipelines.run",
        resource_type="run",
        resource_id=run_id,
        namespace_id=pipeline.namespace_id,
        details={"pipeline_id": str(pipeline.id), "version": version, "params": body.params},
    )
    return run_id


def bind_output(session: Session, *, namespace_id: uuid.UUID, name: str, run_id: uuid.UUID) -> Dataset:
    """The dataset an attempt of run `run_id` writes, the run naming it; `name` is its output's rendered name.

    A run has one output: the dataset an earlier attempt made (an automatic retry), or holding the version one
    published (a run writes one version), is written again whatever `name` renders to now (a template of the start
    time renders anew), so a retry neither makes a second dataset nor publishes a second version. Only a run with
    none finds or makes its output by name (`output_dataset`). One its earlier attempt made that was deleted since is
    not made again: DatasetDeleted (deleting it cancelled the run). The run's row is locked before the dataset's, the
    order a dataset's delete takes them in.
    """
    current = session.scalar(select(Run.dataset_id).where(Run.id == run_id).with_for_update())
    if current is None:
        current = session.scalar(select(DatasetVersion.dataset_id).where(DatasetVersion.run_id == run_id))
    if current is None:
        dataset = output_dataset(session, namespace_id=namespace_id, name=name, run_id=run_id)
    else:
        found = session.get(Dataset, current, with_for_update=True, populate_existing=True)
        if found is None or found.deleted_at is not None:
            raise DatasetDeleted("the run's output dataset was deleted: it is not made again")
        begin_write(found, run_id)
        dataset = found
    session.execute(update(Run).where(Run.id == run_id).values(dataset_id=dataset.id))
    return dataset


def output_dataset(
    session: Session, *, namespace_id: uuid.UUID, name: str, run_id: uuid.UUID, description: str = ""
) -> Dataset:
    """The generated dataset run `run_id` writes to: found by name, or made; an uploaded one is never overwritten.

    The run is its writer from now on (see `dataset_writes`), so a run that ends without writing it leaves it in a
    clear state."""
    found = session.scalar(
        select(Dataset)
        .where(Dataset.namespace_id == namespace_id, Dataset.name == name, Dataset.deleted_at.is_(None))
        .with_for_update()
    )
    if found is not None:
        if found.source != "generated":
            raise Conflict(
                f"the output dataset {name!r} exists and was uploaded: a pipeline writes only generated datasets",
                code="output_name_taken",
            )
        begin_write(found, run_id)
        return found
    dataset = Dataset(
        id=uuid7(),
        namespace_id=namespace_id,
        name=name,
        description=description,
        tags=[],
        source="generated",
    )
    begin_write(dataset, run_id)
    try:
        with session.begin_nested():
            session.add(dataset)
    except IntegrityError:  # another run made it meanwhile
        return output_dataset(session, namespace_id=namespace_id, name=name, run_id=run_id, description=description)
    return dataset
