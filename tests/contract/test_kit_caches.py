"""Kit runs keep Schemathesis's and Hypothesis's caches out of the user's working directory."""

from __future__ import annotations

import tomllib

from kit_mutants import MUTANTS, Proxy
from kit_servers import serve
from pin_mock.contract.schemathesis_run import StRunSettings
from pin_mock.contract.spec import bundled_spec_path

FAILING = next(m for m in MUTANTS if m.name == "reset-as-seconds")


def test_settings_point_both_caches_at_the_cache_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = StRunSettings(spec=bundled_spec_path(), base_url="http://t", report_dir="report",
                             max_examples=1, seed=1, phases=("examples",), workers=1,
                             cache_dir="cache")  # fmt: skip
    # st run starts in the cache directory, so relative paths are resolved first.
    assert settings.report_dir == tmp_path / "report" and settings.cache_dir == tmp_path / "cache"
    config = tomllib.loads(settings.config_toml)
    assert config["cache"]["directory"] == str(tmp_path / "cache" / "schemathesis")
    assert config["warnings"]["fail-on"] == ["rate_limited"]
    assert settings.hypothesis_dir == tmp_path / "cache" / "hypothesis"


def test_a_run_writes_its_caches_under_the_cache_dir(sandbox_url, run_kit, tmp_path, monkeypatch):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    cache = tmp_path / "cache"
    with serve(Proxy(sandbox_url, FAILING)) as url:
        result = run_kit(url, include=("listPatients",), phases=("examples",), cache_dir=cache)
    assert result.exit_code == 1  # a failure: Schemathesis records it in its crash cache
    assert list(workdir.iterdir()) == []
    assert list((cache / "schemathesis").rglob("*.json")), "no crash file in the cache dir"
    assert (cache / "hypothesis").is_dir()


def test_a_run_without_a_cache_dir_leaves_the_working_directory_alone(
    sandbox_url, run_kit, tmp_path, monkeypatch
):
    workdir = tmp_path / "work"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    with serve(Proxy(sandbox_url, FAILING)) as url:
        result = run_kit(url, include=("listPatients",), phases=("examples",))
    assert result.exit_code == 1
    assert list(workdir.iterdir()) == []
