"""Client id and token cache on disk (docs/protocol.md §2): 0600 files, a UUID and nothing else."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

from handlers._auth import CachedToken, forget_token, load_client_id, load_token, new_client_id, store_token
from handlers._config import Config, config_dir


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_client_id_is_a_uuid_alone_in_a_0600_file_and_is_reused(tmp_path: Path) -> None:
    first = load_client_id(tmp_path)
    path = tmp_path / "client_id"
    assert path.read_text().strip() == first
    assert str(uuid.UUID(first)) == first
    assert mode(path) == 0o600
    assert load_client_id(tmp_path) == first


def test_nemo_client_id_wins_and_is_not_written(tmp_path: Path) -> None:
    assert load_client_id(tmp_path, "my-client") == "my-client"
    assert not (tmp_path / "client_id").exists()


def test_a_corrupt_client_id_file_is_replaced_by_a_fresh_uuid(tmp_path: Path) -> None:
    (tmp_path / "client_id").write_text("token=nmv_usr_x\n")
    fresh = load_client_id(tmp_path)
    uuid.UUID(fresh)
    assert (tmp_path / "client_id").read_text() == fresh + "\n"
    assert new_client_id(tmp_path) != fresh


def test_the_config_dir_honours_xdg_config_home(tmp_path: Path) -> None:
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "nemovideo"
    assert config_dir({}).parts[-2:] == (".config", "nemovideo")


def test_the_token_cache_is_0600_per_backend_and_hides_the_token_in_its_repr(tmp_path: Path) -> None:
    store_token(tmp_path, "https://a", CachedToken("nmv_usr_secret", "anon_1", "2999-01-01T00:00:00Z"))
    assert mode(tmp_path / "token.json") == 0o600
    cached = load_token(tmp_path, "https://a")
    assert cached is not None
    assert cached.user_id == "anon_1"
    assert "nmv_usr_secret" not in repr(cached)
    assert load_token(tmp_path, "https://b") is None
    forget_token(tmp_path, "https://a")
    assert load_token(tmp_path, "https://a") is None


def test_an_expired_cached_token_is_not_used(tmp_path: Path) -> None:
    store_token(tmp_path, "k", CachedToken("t", None, "2000-01-01T00:00:00Z"))
    assert load_token(tmp_path, "k") is None


def test_the_config_repr_never_shows_the_token() -> None:
    config = Config.from_env({"NEMO_TOKEN": "nmv_usr_topsecret"})
    assert "topsecret" not in repr(config)


def test_backend_selection_follows_the_environment() -> None:
    assert Config.from_env({}).label == "local"
    assert Config.from_env({}).backend == "embedded"
    assert Config.from_env({"NEMO_TOKEN": "t"}).label == "cloud"
    assert Config.from_env({"NEMO_BACKEND": "cloud"}).api_url == "https://mega-api-prod.nemovideo.ai"
    custom = Config.from_env({"NEMO_API_URL": "http://127.0.0.1:8765/"})
    assert (custom.backend, custom.label, custom.is_engine) == ("http", "http://127.0.0.1:8765", True)
    assert Config.from_env({"NEMO_BACKEND": "local", "NEMO_TOKEN": "t"}).backend == "embedded"
    assert not Config.from_env({"NEMO_BACKEND": "cloud"}).is_engine


def test_renders_are_polled_every_30_s_at_most_10_times_on_the_cloud_and_every_second_on_the_engine() -> None:
    cloud = Config.from_env({"NEMO_TOKEN": "t"}).render_poll
    assert (cloud.first_wait_s, cloud.interval_s, cloud.max_polls) == (30.0, 30.0, 10)
    local = Config.from_env({}).render_poll
    assert (local.first_wait_s, local.interval_s) == (1.0, 1.0)


def test_claim_links_point_at_the_backend_that_serves_them() -> None:
    assert Config.from_env({"NEMO_TOKEN": "t"}).web_url == "https://nemovideo.com"
    assert Config.from_env({"NEMO_API_URL": "http://127.0.0.1:9000"}).web_url == "http://127.0.0.1:9000"
    assert Config.from_env({}).web_url == "http://127.0.0.1:8765"
    assert Config.from_env({"NEMO_WEB_URL": "https://w.example/"}).web_url == "https://w.example"


def test_the_registration_link_is_only_for_anonymous_users() -> None:
    from handlers._http import ApiClient

    anonymous = ApiClient(Config.from_env({}))
    anonymous.user_id = "anon_42"
    assert anonymous.register_url() == "http://127.0.0.1:8765/register?bind=anon_42"
    env_token = ApiClient(Config.from_env({"NEMO_TOKEN": "t"}))
    assert env_token.register_url() is None  # a registered user tops up
    env_token.user_id = "anon_7"  # an anonymous token kept in NEMO_TOKEN, as the cloud's recipes suggest
    assert env_token.register_url() == "https://nemovideo.com/register?bind=anon_7"
