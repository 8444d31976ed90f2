"""Every script under tools/ starts and explains itself (--help), so none rots unnoticed."""

import pathlib
import subprocess
import sys

import pytest

TOOLS = sorted(p for p in (pathlib.Path(__file__).resolve().parents[1] / "tools").glob("*.py") if p.name != "report.py")


@pytest.mark.parametrize("tool", TOOLS, ids=lambda p: p.name)
def test_tool_prints_help(tool):
    done = subprocess.run([sys.executable, str(tool), "--help"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-1500:]
    assert "usage:" in done.stdout
