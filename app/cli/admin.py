"""`conveyor migrate | users | rollup`: operations on the database, from the command line (audited as the API)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator

from app.settings import Settings

logger = logging.getLogger("conveyor")


@contextlib.contextmanager
def database(settings: Settings) -> Iterator[Settings]:
    """`settings` with a database: DATABASE_URL, else the one the running `conveyor up` uses, else the embedded one.

    The embedded server is started for this command when `conveyor up` is not running, and stopped after it.
    """
    import msgspec

    from app.embedded import EmbeddedMissing, EmbeddedPostgres, running_state

    if settings.database_url:
        yield settings
        return
    root = settings.data_path
    state = running_state(root)
    if state is not None:
        yield msgspec.structs.replace(settings, database_url=state["database_url"])
        return
    server = EmbeddedPostgres(root)
    if not server.exists():
        raise SystemExit(
            f"conveyor: DATABASE_URL is not set and there is no embedded database under {root} yet: "
            "start `conveyor up` (`make run`) once from this folder, or set CONVEYOR_DATA_ROOT to its data root"
        )
    try:
        url = server.start()
    except EmbeddedMissing as exc:
        raise SystemExit(f"conveyor: DATABASE_URL is not set and {exc}") from None
    try:
        yield msgspec.structs.replace(settings, database_url=url)
    finally:
        server.stop()


def migrate(args: argparse.Namespace, settings: Settings) -> int:
    from app.db import migrate

    with database(settings) as settings:
        if args.downgrade:
            migrate.downgrade(settings.sqlalchemy_url, args.downgrade)
        else:
            built = migrate.upgrade(settings.sqlalchemy_url, args.revision)
            if built:
                logger.info("trigram indexes created: %s", ", ".join(built))
    logger.info("database at revision %s", args.downgrade or args.revision)
    return 0


def rollup_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    from app.db.engine import get_engine
    from scheduler.rollup import RollupFolder

    with database(settings) as settings:
        engine = get_engine(settings, pre_ping=False)
        counted = RollupFolder(engine=engine).rebuild()
        engine.dispose()
    logger.info("rollup rebuilt: %d finished runs counted", counted)
    return 0


def users_create(args: argparse.Namespace, settings: Settings) -> int:
    import secrets

    from app.core.errors import DomainError
    from app.db.database import database_for
    from app.db.engine import get_engine
    from app.domain.audit import AuditContext
    from app.domain.members import get_namespace, set_member
    from app.domain.permissions import Role
    from app.domain.users import BOOTSTRAP_ADMIN, NewUser, create_user

    # CONVEYOR_ADMIN_PASSWORD is the bootstrap admin's, not every new account's.
    chosen = args.password or (settings.admin_password if args.username == BOOTSTRAP_ADMIN else None)
    password = chosen or secrets.token_urlsafe(18)
    superuser = args.superuser or args.username == BOOTSTRAP_ADMIN
    try:
        with database(settings) as settings, database_for(get_engine(settings)).transaction() as session:
            cli = AuditContext(principal=None, actor_name="command line (conveyor users create)")
            user = create_user(
                session,
                NewUser(username=args.username, password=password, email=args.email, is_superuser=superuser),
                settings,
                audit_as=cli,
            )
            if args.namespace:
                namespace = get_namespace(session, args.namespace)
                set_member(session, namespace.id, user.id, Role.parse(args.role), audit_as=cli)
    except DomainError as exc:
        print(f"conveyor: {exc.detail}", file=sys.stderr)
        return 1
    print(f"created {'instance admin' if superuser else 'account'} {args.username!r}")
    if not chosen:
        print(f"  password (shown once): {password}")
    return 0


def users_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    """For a lost password (the admin's too): a temporary one, shown once, that must be changed at sign-in."""
    from app.db.database import database_for
    from app.db.engine import get_engine
    from app.domain import audit
    from app.domain.users import find_by_username, reset_password

    with database(settings) as settings, database_for(get_engine(settings)).transaction() as session:
        user = find_by_username(session, args.username)
        if user is None:
            print(f"conveyor: no account is called {args.username!r}", file=sys.stderr)
            return 1
        cli = audit.AuditContext(principal=None, actor_name="command line (conveyor users reset-password)")
        temporary = reset_password(session, user, settings, audit_as=cli)
    print(f"reset the password of {args.username!r}; its sessions are signed out")
    print(f"  temporary password (shown once, to be changed at the next sign-in): {temporary}")
    return 0
