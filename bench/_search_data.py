"""The data bench/name_search.py searches: 1,000,000 runs and the named things lists search, ASCII and Chinese.

Every list that takes `?search=` gets a realistic number of rows (2,000 pipelines, deployments, users and
webhooks, 100,000 datasets, 200,000 uploads, 5,000 API tokens), about a third named with `orders`, a fifth
in Chinese with 销售 (`销售数据` for datasets and uploads), and exactly one (the last) holding the rare words
`quokka` and `稀有鹦鹉`. Runs point at pipelines (skewed: the first are busiest, the rare last one has a few
hundred runs), at the deployment of their pipeline when scheduled, at a dataset when they are imports.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

#: How many of each thing (runs are a parameter).
PIPELINES = 2_000
DEPLOYMENTS = PIPELINES  # deployment g runs pipeline g
DATASETS = 100_000
UPLOADS = 200_000
USERS = 2_000
WEBHOOKS = 2_000
TOKENS = 5_000
DAYS = 30

#: A name pattern per table: SQL of `g` (1..n) and `n`; the last row holds the rare words.
_NAMED = """
CASE WHEN g = n THEN {rare}
     WHEN g % 3 = 0 THEN {orders}
     WHEN g % 5 = 1 THEN {chinese}
     ELSE {other} END
"""


def _name(rare: str, orders: str, chinese: str, other: str) -> str:
    return _NAMED.format(rare=rare, orders=orders, chinese=chinese, other=other)


_UPLOAD_NAME = _name(
    "'quokka_稀有鹦鹉.xlsx'", "'orders_' || g || '.csv'", "'销售数据报表_' || g || '.xlsx'", "'export-' || g || '.json'"
)
_WEBHOOK_URL = _name(
    "'https://hooks.example.com/quokka'",
    "'https://hooks.example.com/orders/' || g",
    "'https://hooks.example.cn/' || g",
    "'https://ops.example.com/alerts/' || g",
)

SEEDS = [
    f"""INSERT INTO pipelines (id, namespace_id, name, created_at, updated_at)
    SELECT ('00000000-0000-4000-8001-' || lpad(g::text, 12, '0'))::uuid, :ns,
           {_name("'quokka-稀有鹦鹉-sync'", "'orders-etl-' || g", "'销售汇总-' || g", "'inventory-load-' || g")},
           now() - g * interval '1 minute', now()
    FROM (SELECT g, {PIPELINES} AS n FROM generate_series(1, {PIPELINES}) g) s""",
    """INSERT INTO pipeline_versions (pipeline_id, version, spec) SELECT id, 1, '{"steps": []}' FROM pipelines""",
    f"""INSERT INTO deployments (id, namespace_id, name, pipeline_id, schedule, misfire_policy, misfire_grace_seconds,
                                 max_catch_up, max_concurrent_runs, overlap_policy, dst_gap, dst_fold, max_retries,
                                 enabled, created_at)
    SELECT ('00000000-0000-4000-8002-' || lpad(g::text, 12, '0'))::uuid, :ns,
           {_name("'quokka-稀有鹦鹉-nightly'", "'nightly-orders-' || g", "'每日销售-' || g", "'hourly-sync-' || g")},
           ('00000000-0000-4000-8001-' || lpad(g::text, 12, '0'))::uuid,
           '{{"kind": "cron", "cron": "0 3 * * *", "timezone": "UTC"}}', 'skip', 60, 10, 1, 'skip', 'shift', 'first',
           0, false, now() - g * interval '1 minute'
    FROM (SELECT g, {DEPLOYMENTS} AS n FROM generate_series(1, {DEPLOYMENTS}) g) s""",
    f"""INSERT INTO datasets (id, namespace_id, name, source, status, created_at)
    SELECT ('00000000-0000-4000-8003-' || lpad(g::text, 12, '0'))::uuid, :ns,
           {_name("'quokka 稀有鹦鹉 dataset'", "'orders_' || g", "'销售数据_华东_' || g", "'客户名单-' || g")},
           'uploaded', 'ready', now() - g * interval '10 seconds'
    FROM (SELECT g, {DATASETS} AS n FROM generate_series(1, {DATASETS}) g) s""",
    f"""INSERT INTO uploads (id, namespace_id, filename, size, status, created_at, expires_at)
    SELECT gen_random_uuid(), :ns,
           CASE WHEN g = 7 THEN 'report_100%_final.csv' ELSE {_UPLOAD_NAME} END,
           1000, 'complete', now() - g * interval '5 seconds', now() + interval '1 day'
    FROM (SELECT g, {UPLOADS} AS n FROM generate_series(1, {UPLOADS}) g) s""",
    f"""INSERT INTO users (id, username, email, password_hash, created_at, updated_at)
    SELECT gen_random_uuid(),
           {_name("'quokka.keeper'", "'orders-clerk-' || g", "'销售员' || g", "'analyst' || g")},
           'user' || g || '@example.com', 'x', now() - g * interval '1 minute', now()
    FROM (SELECT g, {USERS} AS n FROM generate_series(1, {USERS}) g) s""",
    f"""INSERT INTO webhook_subscriptions (id, namespace_id, url, description, event_types, secret, created_at)
    SELECT gen_random_uuid(), :ns,
           {_WEBHOOK_URL},
           {_name("'稀有鹦鹉 alerts'", "'orders feed'", "'销售通知 ' || g", "'ops ' || g")},
           ARRAY['run.failed'], 'whsec_x', now() - g * interval '1 minute'
    FROM (SELECT g, {WEBHOOKS} AS n FROM generate_series(1, {WEBHOOKS}) g) s""",
    f"""INSERT INTO auth_tokens (id, token_hash, kind, user_id, family_id, name, namespace_id, role, created_at)
    SELECT gen_random_uuid(), md5(g::text) || md5('t' || g), 'api', (SELECT id FROM users ORDER BY created_at LIMIT 1),
           gen_random_uuid(),
           {_name("'quokka 稀有鹦鹉 laptop'", "'orders batch ' || g", "'销售导入 ' || g", "'ci ' || g")},
           :ns, 'viewer', now() - g * interval '1 minute'
    FROM (SELECT g, {TOKENS} AS n FROM generate_series(1, {TOKENS}) g) s""",
]

SEED_RUNS = f"""
INSERT INTO runs (id, namespace_id, kind, trigger, status, pipeline_id, pipeline_version, deployment_id, dataset_id,
                  params, priority, attempt, max_retries, retry_backoff_seconds, retry_backoff_max_seconds,
                  retry_jitter, timeout_seconds, created_at, finished_at)
SELECT
    (lpad(to_hex((extract(epoch FROM ts) * 1000)::bigint), 12, '0') || '7' || substr(h, 1, 3) || '8'
     || substr(h, 4, 15))::uuid,
    :ns, kind, trig, 'SUCCEEDED',
    CASE WHEN kind = 'pipeline' THEN ('00000000-0000-4000-8001-' || lpad(p::text, 12, '0'))::uuid END,
    CASE WHEN kind = 'pipeline' THEN 1 END,
    CASE WHEN kind = 'pipeline' AND trig = 'schedule' THEN ('00000000-0000-4000-8002-' || lpad(p::text, 12, '0'))::uuid
         END,
    CASE WHEN kind = 'ingest' THEN ('00000000-0000-4000-8003-' || lpad(d::text, 12, '0'))::uuid END,
    '{{}}'::jsonb, 0, 1, 0, 10, 600, 0.2, 3600, ts, ts + interval '1 minute'
FROM (
    SELECT g, ts, h,
           least({PIPELINES}, 1 + floor({PIPELINES} * r_pipe * r_pipe)::int) AS p,
           least({DATASETS}, 1 + floor({DATASETS} * r_data)::int) AS d,
           CASE WHEN r_kind < 0.1 THEN 'ingest' ELSE 'pipeline' END AS kind,
           CASE WHEN r_kind < 0.1 THEN 'api' WHEN r_trig < 0.3 THEN 'schedule' ELSE 'api' END AS trig
    FROM (
        SELECT g, now() - interval '{DAYS} days' + g * make_interval(secs => {DAYS} * 86400.0 / :rows) AS ts,
               md5(g::text) AS h, random() AS r_pipe, random() AS r_data, random() AS r_kind, random() AS r_trig
        FROM generate_series(1, :rows) AS g
    ) raw
) s
"""


@dataclass(frozen=True)
class Seeded:
    runs: int
    namespace: str


def _statements(connection: Connection, rows: int, namespace: object) -> None:
    if connection.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
        # Only lists are timed: the rollup and webhook triggers' rows are not read.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
    connection.execute(text("SELECT setseed(0.42)"))
    for statement in SEEDS:
        connection.execute(text(statement), {"ns": namespace})
    connection.execute(text(SEED_RUNS), {"ns": namespace, "rows": rows})


def seed(engine: Engine, rows: int) -> Seeded:
    """Fill a migrated, empty database; VACUUM ANALYZE it."""
    with engine.begin() as connection:
        namespace = connection.execute(text("SELECT id FROM namespaces WHERE name = 'default'")).scalar_one()
        _statements(connection, rows, namespace)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE"))
    return Seeded(runs=rows, namespace="default")
