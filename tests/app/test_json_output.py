"""``--json``: stdout holds one JSON document; progress bars and library chatter go to stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_everything_but_the_json_goes_to_stderr_even_from_c_code():
    script = (
        "import os, sys\n"
        "from app.cli.output import only_json_on_stdout, print_json\n"
        "with only_json_on_stdout():\n"
        "    print('a progress line')\n"
        "    os.write(1, b'a C library writing to descriptor 1\\n')\n"
        "    print_json({'answer': 42})\n"
        "print('after the block, stdout is stdout again')\n"
    )
    done = run(["-c", script], {**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout == '{"answer": 42}\nafter the block, stdout is stdout again\n'
    assert "a progress line" in done.stderr
    assert "a C library writing to descriptor 1" in done.stderr


@pytest.mark.slow
def test_the_first_build_in_a_new_home_prints_only_json_and_a_search_loads_no_model(tmp_path):
    """The default encoder backend (openvino-int8) exports and calibrates on a home's first
    build: NNCF's quantisation bars used to land on stdout before the JSON."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "vpn.md").write_text("# VPN\n\nError 809 means UDP port 51820 is blocked.")
    (docs / "leave.txt").write_text("Leave policy\n\nSixteen weeks of parental leave.")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCSEARCH_")},
        "PYTHONPATH": str(ROOT),
        "DOCSEARCH_HOME": str(tmp_path / "home"),
        "DOCSEARCH_DOCS": str(docs),
    }
    env.pop("MLFLOW_TRACKING_URI", None)
    built = run(["-m", "app.cli", "build", "--json"], env)
    assert built.returncode == 0, built.stderr
    summary = json.loads(built.stdout)  # the whole of stdout is one JSON document
    assert summary["documents"] == 2 and summary["activated"]
    assert "Statistics collection" in built.stderr  # NNCF's bar: there, on stderr
    found = run(["-m", "app.cli", "search", "error 809", "--json"], env)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["results"][0]["doc_id"] == "vpn.md"
    # the version's own export serves the query: no model is loaded, no bar is shown
    assert "Loading weights" not in found.stderr and "%|" not in found.stderr
