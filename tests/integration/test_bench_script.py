"""scripts/bench.sh --quick and `bench.sh big --quick` as smoke tests: they start every
server they compare, run every workload against each, measure memory, and print their
tables (no figure is judged, only that each was measured)."""

import os
import shutil
import subprocess

import pytest

from conftest import ROOT, cascade_bin

SERVERS = ["cascade-always", "cascade-everysec", "redis-always", "redis-everysec",
           "redis-none"]


def run_bench(tmp_path, *args):
    env = dict(os.environ, CASCADE_BIN=cascade_bin(), TMPDIR=str(tmp_path))
    result = subprocess.run([str(ROOT / "scripts" / "bench.sh"), *args], env=env,
                            capture_output=True, text=True, timeout=150)
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path) == []  # the servers' directories and fio's file are gone
    return result.stdout


def tables(stdout):
    """Each markdown table as a list of rows of stripped cells, the header row first."""
    found, current = [], None
    for line in stdout.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                found.append(current)
            if not line.startswith("|---"):
                current.append([c.strip() for c in line.split("|")[1:-1]])
        else:
            current = None
    return found


def number(cell):
    return float(cell.replace(",", ""))


def test_bench_quick_prints_throughput_and_memory_for_every_server(tmp_path):
    if not shutil.which("redis-server") or not shutil.which("redis-benchmark"):
        pytest.skip("redis-server or redis-benchmark is not installed")
    throughput, memory = tables(run_bench(tmp_path, "--quick"))

    assert throughput[0][:4] == ["server", "value", "pipeline", "test"]
    cells = {tuple(r[:4]): r for r in throughput[1:]}
    workloads = [(value, test) for value in ("64 B", "4 KiB") for test in ("SET", "GET", "MSET")]
    workloads.append(("64 B", "INCR"))  # INCR has no value size
    for server in SERVERS:
        for value, test in workloads:
            for pipeline in ("1", "16"):
                row = cells.get((server, value, pipeline, test))
                assert row, f"no row for {server} {value} -P {pipeline} {test}"
                assert number(row[4]) > 0
    assert len(throughput) == 1 + len(SERVERS) * len(workloads) * 2
    assert number(cells[("cascade-always", "4 KiB", "16", "SET")][7]) > 0  # vs redis always
    assert number(cells[("cascade-everysec", "64 B", "1", "INCR")][8]) > 0  # vs redis none

    assert memory[0][:2] == ["server", "keys (DBSIZE)"]
    assert [r[0] for r in memory[1:]] == SERVERS
    for row in memory[1:]:
        assert number(row[1]) == 10000  # every key the loader SET is there
        assert number(row[3]) > 0 and number(row[4]) > 0  # RSS, used_memory
        assert number(row[6]) == 100  # idle connections held
        assert number(row[8]) > 0 and number(row[9]) > 0  # ratios to redis none


def test_bench_big_quick_reads_a_loaded_data_set_next_to_fio(tmp_path):
    if not shutil.which("redis-benchmark") or not shutil.which("fio"):
        pytest.skip("redis-benchmark or fio is not installed")
    stdout = run_bench(tmp_path, "big", "--quick")
    assert "2000 keys of 4 KiB" in stdout  # DBSIZE after the load
    [rows] = tables(stdout)
    by_name = {r[0]: r for r in rows[1:]}
    load = by_name["load: SET of 2,000 x 4 KiB, 4 connections pipelined"]
    assert number(load[1]) > 0 and number(load[2]) > 0
    for label in ("random GET, -c 10", "random GET, -c 10 -P 16"):  # --quick: -c 10
        get = by_name[label]
        assert number(get[1]) > 0 and number(get[4]) > 0
        assert number(get[5]) > 0  # the ratio to fio
    fio = by_name["fio 4 KiB randread, iodepth 32, direct"]
    assert number(fio[1]) > 0
    assert "block cache hit ratio" in stdout
