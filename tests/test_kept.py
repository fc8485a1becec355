"""rag.kept: values made once and read back by later processes."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from rag.kept import folder, kept


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "rag"


def test_a_value_is_made_once_and_read_back(cache: Path) -> None:
    made: list[int] = []

    def make() -> dict[str, list[int]]:
        made.append(1)
        return {"a": [1, 2]}

    assert folder() == cache
    assert not cache.exists()
    assert kept("table", "v1", make) == {"a": [1, 2]}
    assert kept("table", "v1", make) == {"a": [1, 2]}
    assert len(made) == 1
    assert len(list(cache.glob("table-*.kept"))) == 1
    assert cache.stat().st_mode & 0o077 == 0  # the folder is the user's alone


def test_what_it_depends_on_names_the_copy_and_the_old_one_goes(cache: Path) -> None:
    kept("table", "v1", lambda: 1)
    (old,) = cache.glob("table-*.kept")
    kept("table-senses", "v1", lambda: 3)  # another value, its name starting the same
    assert kept("table", "v2", lambda: 2) == 2
    (new,) = cache.glob("table-????????????????.kept")
    assert new != old and not old.exists()
    assert len(list(cache.glob("table-senses-*.kept"))) == 1  # another value's copy stays


def test_a_damaged_copy_is_made_again_and_replaced(cache: Path) -> None:
    kept("table", "v1", lambda: [1])
    (copy,) = cache.glob("table-*.kept")
    copy.write_bytes(b"not marshal data")
    assert kept("table", "v1", lambda: [1]) == [1]
    assert copy.read_bytes() != b"not marshal data"
    copy.write_bytes(b"\x80\x05garbage")  # pickle's loader fails otherwise
    assert kept("table", "v1", lambda: [1], pickle.dumps, pickle.loads) == [1]


def test_without_a_writable_folder_each_process_makes_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "file"))
    assert kept("table", "v1", lambda: [1]) == [1]
    assert kept("table", "v1", lambda: [2]) == [2]  # nothing was kept
