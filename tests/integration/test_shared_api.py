"""The integration tests' API app is made once per test process (tests/integration/shared_api.py) and each test
still starts from a clean client and an empty data root."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from litestar.testing import TestClient

from app.settings import Settings
from app.storage import Store
from app.storage.open import store_for
from tests.integration.shared_api import SharedApi


def test_equal_settings_share_one_running_app_and_other_settings_get_their_own(
    fast_settings: Settings,
    redis_client,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    shared = SharedApi()
    try:
        first = shared.client(fast_settings)
        # Given a test that signed in and was given a cookie
        first.headers["Authorization"] = "Bearer left-over"
        first.cookies.set("conveyor_refresh", "left-over")
        shared.reset()
        # When the next test, with settings equal to its own (another object), asks for the API
        again = shared.client(msgspec.structs.replace(fast_settings))
        # Then it is the same running app, without the last test's header or cookie
        assert again is first
        assert "Authorization" not in again.headers
        assert not again.cookies
        assert again.get("/healthz").status_code == 200
        # And settings of its own (another data root) get an app of their own
        other = shared.client(msgspec.structs.replace(fast_settings, data_root=str(tmp_path / "other")))
        assert other is not first
        assert other.get("/healthz").status_code == 200
    finally:
        shared.close()


def test_a_test_gets_the_shared_app_and_an_emptyprocess_data_root(
    anonymous: TestClient, shared_api: SharedApi, fast_settings: Settings
) -> None:
    assert anonymous is shared_api.client(fast_settings)
    assert not fast_settings.data_path.exists()  # what an earlier test of this process wrote there is gone


#: The stores earlier tests of this process had for their data root (kept, so none is a later one's new object).
STORES: list[Store] = []


@pytest.mark.parametrize("test", ["first", "second"])
def test_files_a_test_leaves_in_theprocess_data_root_are_gone_for_the_next(
    test: str, settings: Settings, process_data_root: Path
) -> None:
    assert settings.data_root == str(process_data_root)  # the process's one root (so the app is shared), emptied
    assert not settings.data_path.exists()
    settings.data_path.mkdir(parents=True)
    (settings.data_path / "left-over").write_text(test)
    # And the process's store of the root is a new one: it keeps what it knows of the root (when it last swept it)
    store = store_for(settings.data_root)
    assert all(store is not earlier for earlier in STORES)
    STORES.append(store)
