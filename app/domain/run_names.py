"""The names a run shows beside its ids (its pipeline, deployment and dataset), read for exactly the runs listed,
and the search of runs by those names.

A list of runs carries ids; a reader wants names. Looking them up in a capped page of pipelines left a run of the
501st pipeline showing an id, so the names are read here, by primary key, for the ids of the runs at hand: three
small IN queries per page, whatever the number of pipelines, deployments or datasets.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, false, or_, select
from sqlalchemy.orm import Session

from app.db.datasets import Dataset
from app.db.deployments import Deployment
from app.db.models import Pipeline, Run
from app.domain.name_search import holds


@dataclass(frozen=True, slots=True)
class SubjectNames:
    """Names of what the runs work on, by id (a deleted or unknown id is absent)."""

    pipelines: dict[uuid.UUID, str]
    deployments: dict[uuid.UUID, str]
    datasets: dict[uuid.UUID, str]


def subject_names(session: Session, runs: Iterable[Any]) -> SubjectNames:
    """The names of the pipelines, deployments and datasets that `runs` (rows with those ids) refer to."""
    listed = list(runs)

    def names(model: Any, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        return {row.id: row.name for row in session.execute(select(model.id, model.name).where(model.id.in_(wanted)))}

    return SubjectNames(
        pipelines=names(Pipeline, {r.pipeline_id for r in listed}),
        deployments=names(Deployment, {r.deployment_id for r in listed}),
        datasets=names(Dataset, {r.dataset_id for r in listed}),
    )


#: The most pipelines, deployments or datasets (each) a search of runs names by id. Past it the word is common:
#: the runs are then matched by walking them newest first, which finds a page at once when matches are dense.
MAX_NAMED_IDS = 1_000


def subject_named(session: Session, search: str) -> ColumnElement[bool]:
    """Runs whose pipeline, deployment or dataset has a name holding `search` (any case: name_search.holds), the
    names a run shows.

    Each name is looked up in its own table first (a trigram index serves it, migration 0026), and the runs are then
    asked by those ids, written into the statement: the planner sees how many runs they have, so a rare name reads
    its few runs from the runs' per-pipeline, per-deployment and per-dataset indexes instead of walking every run
    newest first (0.8 s at a million runs for a word nothing holds), and a common one still walks only a page.
    Written, not bound: a statement psycopg prepares (the fifth time) could otherwise get a plan made for no ids.
    """
    wanted: list[ColumnElement[bool]] = []
    for model, column in ((Pipeline, Run.pipeline_id), (Deployment, Run.deployment_id), (Dataset, Run.dataset_id)):
        ids = session.scalars(select(model.id).where(holds(search, model.name)).limit(MAX_NAMED_IDS + 1)).all()
        if len(ids) > MAX_NAMED_IDS:
            return _subject_named_within(search)
        if ids:
            wanted.append(column.in_(bindparam(f"{column.key}_named", ids, expanding=True, literal_execute=True)))
    return or_(*wanted) if wanted else false()


def _subject_named_within(search: str) -> ColumnElement[bool]:
    """`subject_named` as subqueries, for a word so common that the ids would not be worth writing out."""
    return or_(
        Run.pipeline_id.in_(select(Pipeline.id).where(holds(search, Pipeline.name))),
        Run.deployment_id.in_(select(Deployment.id).where(holds(search, Deployment.name))),
        Run.dataset_id.in_(select(Dataset.id).where(holds(search, Dataset.name))),
    )
