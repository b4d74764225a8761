"""The repository passes ruff (lint and format), as CI requires."""

from __future__ import annotations

import subprocess
import sys


def test_ruff_check(repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "."], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format(repo_root):
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
