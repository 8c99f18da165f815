"""scripts/bench-shards.sh, one short round, as a smoke test: it starts redis-server and
cascade at each shard count it is given and prints a row per test, pipelining and server
(no figure is judged)."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, cascade_bin


def test_bench_shards_prints_a_row_per_server(tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server or redis-benchmark is not installed")
    env = dict(os.environ, CASCADE_BIN=cascade_bin(), TMPDIR=str(tmp_path))
    result = subprocess.run([str(ROOT / "scripts" / "bench-shards.sh"), "--rounds", "1",
                             "-n", "2000", "--tests", "get", "--shards", "1,2"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in result.stdout.splitlines()
            if line.startswith("| GET")]
    servers = {(r[1], r[2]) for r in rows}
    assert servers == {(p, s) for p in ("1", "16")
                       for s in ("redis-server", "cascade, 1 shard(s)", "cascade, 2 shard(s)")}, \
        result.stdout
    for row in rows:
        assert float(row[3].replace(",", "")) > 0, row
        assert float(row[4]) >= 0, row
    # Nothing left behind: the servers were stopped and their directories removed.
    assert not any(tmp_path.iterdir()), list(tmp_path.iterdir())
