"""Password hashing (argon2id) and password rules."""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.errors import InvalidInput
from app.settings import Settings

MAX_LENGTH = 1024
#: Lowest zxcvbn score accepted (0-4; 3 is "safely unguessable": about 10^8 guesses or more).
MIN_SCORE = 3
#: Characters zxcvbn scores (its own limit; its matching grows fast with length). A longer password's start counts.
SCORED_LENGTH = 72


@functools.cache
def hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hasher_for(settings: Settings) -> PasswordHasher:
    return hasher(settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism)


@functools.cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return hasher(time_cost, memory_kib, parallelism).hash("not a real password, only for timing")


def hash_password(password: str, settings: Settings) -> str:
    return hasher_for(settings).hash(password)


def verify_password(stored_hash: str | None, password: str, settings: Settings) -> bool:
    """Constant-time check. With no stored hash (unknown user) a dummy is verified, so timing tells nothing."""
    ph = hasher_for(settings)
    target = stored_hash or _dummy_hash(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    try:
        ok = ph.verify(target, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return ok and stored_hash is not None


def needs_rehash(stored_hash: str, settings: Settings) -> bool:
    """True when the settings' argon2 parameters changed since this hash was made."""
    return hasher_for(settings).check_needs_rehash(stored_hash)


@functools.cache
def common_passwords() -> frozenset[str]:
    """30,000 passwords most often found in leaks (from zxcvbn's frequency lists)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def check_password_rules(password: str, settings: Settings, *, username: str = "", field: str = "password") -> None:
    """Raise InvalidInput (`weak_password`) naming the rule a new password breaks."""
    problem = None
    if len(password) < settings.password_min_length:
        problem = f"must be at least {settings.password_min_length} characters"
    elif len(password) > MAX_LENGTH:
        problem = f"must be at most {MAX_LENGTH} characters"
    elif password.lower() in common_passwords():
        problem = "is one of the most common passwords; choose another"
    elif username and username.lower() in password.lower():
        problem = "must not contain the username"
    else:
        problem = _guessability_problem(password, username)
    if problem:
        raise InvalidInput(
            f"the password {problem}", code="weak_password", errors=[{"field": field, "message": problem}]
        )


def _guessability_problem(password: str, username: str) -> str | None:
    """Why zxcvbn finds the password too easy to guess (repeats, keyboard walks, l33t words...), or None."""
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=[username] if username else [])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    hints = [feedback["warning"], *feedback["suggestions"][:1]]
    reason = " ".join(h.rstrip(".") + "." for h in hints if h) or "Add another uncommon word or two."
    return f"is too easy to guess: {reason}"
