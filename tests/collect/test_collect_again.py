"""A process that collects again (a scheduler, a notebook) reads botocore's service
models once: the second collection parses no model file, and the loader they share
does not grow with every session."""

from __future__ import annotations

import botocore.loaders

from cfgmon.aws.session import build_session


def _model_files_read(monkeypatch) -> list[str]:
    read: list[str] = []
    load_file = botocore.loaders.JSONFileLoader.load_file

    def counting(self, file_path, *args):
        read.append(file_path)
        return load_file(self, file_path, *args)

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", counting)
    return read


def test_a_second_collection_in_the_process_parses_no_service_model_again(
        aws, cli, tmp_path, monkeypatch):
    read = _model_files_read(monkeypatch)
    first = cli("collect", "--db", str(tmp_path / "a.duckdb"), "--endpoint-url", aws.endpoint,
                "--region", "us-east-1")
    assert first.exit_code == 0, first.stderr
    read.clear()
    second = cli("collect", "--db", str(tmp_path / "b.duckdb"), "--endpoint-url", aws.endpoint,
                 "--region", "us-east-1")
    assert second.exit_code == 0, second.stderr
    assert read == []


def test_sessions_share_one_loader_whose_search_path_stays_as_it_was():
    loader = build_session()._session.get_component("data_loader")
    paths = list(loader.search_paths)
    for _ in range(5):
        again = build_session()._session.get_component("data_loader")
        assert again is loader
    assert loader.search_paths == paths


def test_a_data_path_of_the_users_own_gets_a_loader_that_searches_it(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DATA_PATH", str(tmp_path))
    loader = build_session()._session.get_component("data_loader")
    assert str(tmp_path) in loader.search_paths
    monkeypatch.delenv("AWS_DATA_PATH")
    assert str(tmp_path) not in build_session()._session.get_component("data_loader").search_paths
