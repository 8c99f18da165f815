"""scripts/bench-collections.sh --quick as a smoke test: it starts every server it compares,
runs redis-benchmark's collection tests and the sorted-set timings against them and prints
both tables (no figure is judged)."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, cascade_bin

SERVERS = ["redis-none", "redis-always", "cascade-everysec", "cascade-always"]
TESTS = ["LPUSH", "RPUSH", "LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN",
         "LRANGE_100", "LRANGE_600", "MSET"]


def test_bench_collections_quick_prints_both_tables(tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server or redis-benchmark is not installed")
    env = dict(os.environ, CASCADE_BIN=cascade_bin(), TMPDIR=str(tmp_path))
    result = subprocess.run([str(ROOT / "scripts" / "bench-collections.sh"), "--quick"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith(("| test", "| server"))]
    by_test = {r[0]: r for r in rows if len(r) == len(SERVERS) + 3}
    for test in TESTS:
        row = by_test.get(test)
        assert row, f"no row for {test}:\n{result.stdout}"
        for cell in row[1:1 + len(SERVERS)]:
            assert float(cell.replace(",", "")) > 0, row
        assert float(row[-2].split()[0]) > 0  # cascade everysec / redis none
    zset = {(r[0], r[1]): r for r in rows if len(r) == 5}
    for server in ("cascade-everysec", "redis-none"):
        for op in ("ZADD", "ZRANGE rank", "ZRANK"):
            row = zset.get((server, op))
            assert row, f"no sorted-set row for {server} {op}:\n{result.stdout}"
            assert "1,000 members" in result.stdout and "5,000 members" in result.stdout
            assert float(row[2].split("/")[0].replace(",", "")) > 0
            assert row[4].endswith("x")
    assert os.listdir(tmp_path) == []  # the servers' directories are gone
