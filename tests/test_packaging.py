"""Packaging: ``pip install -e .`` (what ``make`` runs) installs quietly and cleanly."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import PROJECT


def test_editable_install_puts_the_project_on_the_path_without_a_warning(tmp_path: Path) -> None:
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from setuptools import build_meta; "
            "print(build_meta.build_editable(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "Editable installation" not in build.stderr + build.stdout
    wheel = tmp_path / build.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as files:
        (pth,) = [n for n in files.namelist() if n.endswith(".pth")]
        assert files.read(pth).decode().split() == [str(PROJECT)]
