"""scripts/bench.sh --quick as a smoke test: it starts every server it compares, runs
redis-benchmark against each and prints the side-by-side table (no figure is judged)."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, cascade_bin


def test_bench_quick_prints_a_table_for_every_server(tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server or redis-benchmark is not installed")
    env = dict(os.environ, CASCADE_BIN=cascade_bin(), TMPDIR=str(tmp_path))
    result = subprocess.run([str(ROOT / "scripts" / "bench.sh"), "--quick"], env=env,
                            capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr
    rows = [line.split("|")[1:-1] for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| server")]
    cells = {(r[0].strip(), r[1].strip(), r[2].strip()): r for r in rows}
    servers = ["cascade-always", "cascade-everysec", "redis-always", "redis-everysec",
               "redis-none"]
    for server in servers:
        for pipeline in ("1", "16"):
            for test in ("SET", "GET"):
                row = cells.get((server, pipeline, test))
                assert row, f"no row for {server} -P {pipeline} {test}:\n{result.stdout}"
                assert float(row[3].strip().replace(",", "")) > 0
    ratio = cells[("cascade-always", "16", "SET")][6].strip()
    assert float(ratio) > 0
    assert os.listdir(tmp_path) == []  # the servers' directories are gone
