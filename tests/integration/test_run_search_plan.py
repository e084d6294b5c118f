"""GET /runs?search= at 50,000 runs: a rare name reads its runs by index, a common one walks a page, and both
ways of asking (the ids found, or subqueries past MAX_NAMED_IDS) list the same runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text

from app.domain import run_names
from app.domain.permissions import Principal
from app.domain.runs import RunFilters, list_runs
from app.settings import Settings
from tests.plan_support import answered_with_plan
from tests.servers import TestServers

ADMIN = Principal(user_id=uuid.UUID(int=0), username="test", is_superuser=True)
RUNS = 50_000
#: 1,200 pipelines (more than MAX_NAMED_IDS hold `pipe`); `quokka-稀有` has one run in 5,000, the others one in 1,200.
PIPELINES = 1_200


@pytest.fixture(scope="module")
def many_runs(servers: TestServers) -> Iterator[Engine]:
    """A database of the module's own at head with PIPELINES pipelines and RUNS runs over 30 days, analysed."""
    url = servers.create_migrated_database()
    engine = create_engine(Settings(database_url=url).sqlalchemy_url)
    with engine.begin() as connection:
        if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            connection.execute(text("SET LOCAL session_replication_role = replica"))  # no rollup rows: not read
        connection.execute(
            text("""
            INSERT INTO pipelines (id, namespace_id, name)
            SELECT ('00000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid,
                   (SELECT id FROM namespaces WHERE name = 'default'),
                   CASE WHEN g = 1 THEN 'quokka-稀有' ELSE 'pipe-' || g END
            FROM generate_series(1, :pipelines) g"""),
            {"pipelines": PIPELINES},
        )
        connection.execute(
            text("""
            INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version,
                              retry_backoff_seconds, retry_backoff_max_seconds, retry_jitter, timeout_seconds,
                              created_at)
            SELECT gen_random_uuid(), (SELECT id FROM namespaces WHERE name = 'default'), 'pipeline', 'api',
                   'SUCCEEDED',
                   ('00000000-0000-4000-8000-' || lpad((CASE WHEN i % 5000 = 0 THEN 1
                                                            ELSE 2 + i % (:pipelines - 1) END)::text, 12, '0'))::uuid,
                   1, 1, 1, 0, 60, now() - i * interval '50 seconds'
            FROM generate_series(1, :runs) i"""),
            {"pipelines": PIPELINES, "runs": RUNS},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE runs"))
        connection.execute(text("ANALYZE pipelines"))
    yield engine
    engine.dispose()
    servers.drop_database(url)


def searched(engine: Engine, word: str) -> tuple[list[uuid.UUID], str]:
    """The ids GET /runs?search=`word` lists (one page of 50, as an admin) and the plan of its runs statement."""
    return answered_with_plan(
        engine,
        "runs",
        lambda s: [run.id for run in list_runs(s, ADMIN, RunFilters(search=word), limit=50, cursor=None)],
    )


def expected(engine: Engine, word: str) -> list[uuid.UUID]:
    """The newest 51 runs of the pipelines whose name holds `word` (any case, every character literal)."""
    with engine.connect() as connection:
        return list(
            connection.execute(
                text("""
                SELECT r.id FROM runs r JOIN pipelines p ON p.id = r.pipeline_id
                WHERE strpos(lower(p.name), lower(:word)) > 0
                ORDER BY r.created_at DESC, r.id DESC LIMIT 51"""),
                {"word": word},
            ).scalars()
        )


@pytest.mark.parametrize("word", ["QUOKKA", "稀有"])
def test_a_rare_name_reads_its_runs_by_index_not_every_run(many_runs: Engine, word: str) -> None:
    # Given 50,000 runs, 10 of them of the pipeline `quokka-稀有`
    # When the runs are searched by part of its name
    ids, plan = searched(many_runs, word)
    # Then they are listed, read from the runs of that pipeline, not found by walking every run newest first
    assert ids == expected(many_runs, word)
    assert len(ids) == RUNS // 5000
    assert "ix_runs_pipeline_created" in plan, plan
    assert "ix_runs_created" not in plan, plan


def test_a_name_nothing_holds_reads_no_run(many_runs: Engine) -> None:
    ids, plan = searched(many_runs, "zzqxj")
    assert ids == []
    assert "runs" not in plan.replace("FROM runs", ""), plan  # the planner answers `false` without a scan


def test_a_common_name_walks_one_page_of_runs(many_runs: Engine) -> None:
    # When the runs are searched by a word more than MAX_NAMED_IDS pipelines hold
    ids, plan = searched(many_runs, "pipe-")
    # Then a page is found by walking the runs newest first
    assert ids == expected(many_runs, "pipe-")
    assert "ix_runs_created" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.parametrize("word", ["quokka", "稀有", "pipe-11", "PIPE-1199", "e-1", "%", "_", "zzqxj"])
def test_both_ways_of_asking_list_the_same_runs(many_runs: Engine, word: str, monkeypatch: pytest.MonkeyPatch) -> None:
    by_ids, _ = searched(many_runs, word)
    monkeypatch.setattr(run_names, "MAX_NAMED_IDS", 0)  # every match is "too many": the subqueries
    by_subqueries, _ = searched(many_runs, word)
    assert by_ids == by_subqueries == expected(many_runs, word)
