"""What can go wrong talking to the data root, as errors the API and the workers map one way each."""

from __future__ import annotations

from app.core.errors import DomainError


class StoreUnavailable(DomainError):
    """The store did not answer or answered 5xx: try again later (API 503, runs retry)."""

    status, code, title = 503, "storage_unavailable", "Storage unavailable"
    #: A run that met it fails retryably (its retry policy applies), unlike a bad file or configuration.
    retryable = True


class StoreMisconfigured(DomainError):
    """Credentials refused or the bucket missing: a setting is wrong, retrying will not help."""

    status, code, title = 503, "storage_misconfigured", "Storage misconfigured"


class ObjectMissing(FileNotFoundError):
    """No object under this key (a FileNotFoundError, so callers that handled missing files still do)."""
