"""build/cascade-bench smoke tests at tiny sizes: the db_bench workloads run and print
db_bench's report lines; readwhilewriting reports the reads and the paced writer apart and
honours --disable_auto_compactions; scripts/bench-mixed.sh --quick prints its table and
ratio. Figures are not judged, except what the flags promise (pacing, no compaction)."""

import os
import pathlib
import re
import subprocess

import pytest

from conftest import ROOT

LINE = re.compile(r"^(\w+)\s+:\s+[\d.]+ micros/op (\d+) ops/sec ([\d.]+) seconds (\d+) operations;",
                  re.M)
WRITES = re.compile(r"^Writes \(1 fiber, at most (\d+) B/s\): (\d+) ops, \d+ ops/sec, [\d.]+ MB/s; "
                    r"Percentiles: P50: [\d.]+ P99: [\d.]+ P99\.9: [\d.]+$", re.M)
COMPACTION = re.compile(r"^Compaction: ([\d.]+) MiB read, ([\d.]+) MiB written; "
                        r"level 0 (\d+) -> (\d+) tables", re.M)


def bench_bin():
    # Beside the server the suite tests (CASCADE_BIN), else in ./build.
    server = os.environ.get("CASCADE_BIN")
    build = pathlib.Path(server).parent if server else ROOT / "build"
    path = build / "cascade-bench"
    if not os.access(path, os.X_OK):
        pytest.fail(f"cascade-bench not found at {path}")
    return str(path)


def run(*args):
    result = subprocess.run([bench_bin(), *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_fill_and_read_workloads_print_db_bench_lines(tmp_path):
    out = run(f"--db={tmp_path / 'db'}", "--num=2000",
              "--benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom")
    names = [m[1] for m in LINE.finditer(out)]
    assert names == ["fillseq", "fillrandom", "overwrite", "readrandom", "readseq", "seekrandom"]
    assert re.search(r"^readrandom .*\((\d+) of 2000 found\)$", out, re.M)
    assert "Write amplification:" in out


def test_readwhilewriting_reports_reads_and_a_paced_writer(tmp_path):
    db = f"--db={tmp_path / 'db'}"
    common = [db, "--num=5000", "--memtable_size=262144"]
    run(*common, "--benchmarks=fillrandom")
    rate = 116 * 2000  # 2000 puts a second of 16 + 100 bytes
    out = run(*common, "--use_existing_db", "--threads=3", "--reads=2000",
              f"--benchmark_write_rate_limit={rate}", "--benchmarks=readwhilewriting")
    line = LINE.search(out)
    assert line and line[1] == "readwhilewriting"
    assert int(line[4]) == 3 * 2000  # the readers' gets only
    assert re.search(r"\(\d+ of 6000 found\)", out)
    writes = WRITES.search(out)
    assert writes, out
    assert int(writes[1]) == rate
    seconds = float(line[3])
    # Paced: no more puts than the rate allows over the readers' run (plus the first).
    assert 1 <= int(writes[2]) <= 2000 * seconds + 2
    assert "automatic compaction disabled" not in out


def test_readwhilewriting_with_compactions_disabled_compacts_nothing(tmp_path):
    common = [f"--db={tmp_path / 'db'}", "--num=20000", "--memtable_size=262144"]
    fill = run(*common, "--benchmarks=fillrandom")
    level0 = int(COMPACTION.search(fill)[4])
    assert level0 >= 4  # past the trigger: a running engine would compact at open
    out = run(*common, "--use_existing_db", "--threads=2", "--reads=3000",
              "--benchmark_write_rate_limit=2000000", "--disable_auto_compactions",
              "--benchmarks=readwhilewriting")
    assert "automatic compaction disabled" in out
    c = COMPACTION.search(out)
    assert (float(c[1]), float(c[2])) == (0.0, 0.0)
    # L0 only grows (the open may add the fill's last memtable, replayed from the WAL).
    assert int(c[3]) >= level0 and int(c[4]) >= int(c[3])
    assert "0 compactions (0 moves)" in out


def test_bench_mixed_quick_prints_both_variants_and_the_ratio(tmp_path):
    env = dict(os.environ, CASCADE_BENCH=bench_bin(), CASCADE_BENCH_PREBUILT="1")
    result = subprocess.run([str(ROOT / "scripts" / "bench-mixed.sh"), "--quick", "--db",
                             str(tmp_path / "bench")], env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [l.split() for l in result.stdout.splitlines() if re.match(r"^(running|paused)\s+1 ", l)]
    assert [r[0] for r in rows] == ["running", "paused"]
    paused = rows[1]
    assert paused[-2] == "0.0"  # compaction MiB written while paused
    assert re.search(r"^read P99 running / paused: [\d.]+ \(target <= 2\)$", result.stdout, re.M)
    assert not (tmp_path / "bench" / "mixed").exists()  # the database is removed
