"""The first account: an instance admin called `admin`, created when no account exists."""

from __future__ import annotations

import secrets

from sqlalchemy import Engine

from app.db.database import database_for
from app.db.queries import query
from app.domain.users import BOOTSTRAP_ADMIN, NewUser, any_user_exists, create_user
from app.settings import Settings


def ensure_admin(engine: Engine, settings: Settings) -> str | None:
    """Create `admin` if there is no account yet; returns the generated password, if one was generated."""
    with database_for(engine).transaction() as session:
        session.execute(query("bootstrap_lock"))  # two first starts on one database: one at a time
        if any_user_exists(session):
            return None
        password = settings.admin_password or secrets.token_urlsafe(18)
        create_user(session, NewUser(username=BOOTSTRAP_ADMIN, password=password, is_superuser=True), settings)
        return None if settings.admin_password else password
