"""The crash test (scripts/crash-test.sh, tests/crash/): a short run in each mode must
survive every kill, and its judgement must catch what it exists to catch: a lost
acknowledged write, a hole in a writer's order, a multi-key write applied in part, a key
read past its deadline, and a server that forgets everything."""

import os
import re
import stat
import subprocess
import sys

import pytest

from conftest import ROOT, cascade_bin

sys.path.insert(0, str(ROOT / "tests" / "crash"))
from history import (ABSENT, KeyState, Observation, Op, check, hole_witness,  # noqa: E402
                     matches)
import crash_test  # noqa: E402
from report import CycleReport  # noqa: E402

SCRIPT = ROOT / "scripts" / "crash-test.sh"


def run_script(tmp_path, *args, binary=None, timeout=60):
    env = dict(os.environ, CASCADE_BIN=binary or cascade_bin())
    return subprocess.run([str(SCRIPT), "--dir", str(tmp_path), *args], env=env,
                          capture_output=True, text=True, timeout=timeout)


def figure(output, name):
    match = re.search(rf"^{name}: (\d+)", output, re.MULTILINE)
    assert match, f"no '{name}' in:\n{output}"
    return int(match.group(1))


@pytest.mark.parametrize("mode", ["always", "everysec"])
def test_a_short_crash_test_loses_nothing(tmp_path, mode):
    result = run_script(tmp_path, "--cycles", "3", "--duration", "1.5", "--appendfsync", mode,
                        "--seed", "7", "--quiet")
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "cycles survived: 3/3" in out
    assert figure(out, "writes checked") > 100
    assert figure(out, "writes lost") == 0
    assert os.listdir(tmp_path) == []  # a passing run removes its directory


def test_a_server_that_forgets_its_data_fails_the_crash_test(tmp_path):
    # A wrapper that empties the data directory before every start: all writes of the
    # first cycle are gone at its restart.
    wrapper = tmp_path / "forgetful-server"
    wrapper.write_text(
        "#!/bin/bash\n"
        "args=(\"$@\")\n"
        "for ((i = 0; i < ${#args[@]}; i++)); do\n"
        "  [[ ${args[i]} == --dir ]] && rm -rf \"${args[i+1]}\"\n"
        "done\n"
        f"exec {cascade_bin()} \"$@\"\n")
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "work"
    work.mkdir()
    result = run_script(work, "--cycles", "2", "--duration", "1", "--seed", "3",
                        "--recovery-kills", "0", binary=str(wrapper))
    assert result.returncode == 1, result.stdout + result.stderr
    assert figure(result.stdout, "writes lost") > 0
    assert "acknowledged writes missing" in result.stdout
    assert "data directory and server log kept" in result.stdout


# ---- the judgement, on histories made by hand -------------------------------------------

A, B = b"a", b"b"


def seen(value, expire=-1, at=1000):
    return Observation(value, expire, at, at + 1)


def op(command, effects, acked=True):
    return Op(command, 0, 1 if acked else None, {k: list(v) for k, v in effects.items()})


def test_every_acknowledged_write_and_the_one_in_flight_either_way_are_accepted():
    ops = [op(["SET a 1"], {A: [KeyState(b"1")]}),
           op(["SET b 2"], {B: [KeyState(b"2")]}),
           op(["DEL a"], {A: [ABSENT]}, acked=False)]
    base = {A: ABSENT, B: KeyState(b"old")}
    applied = check(ops, base, {A: seen(None), B: seen(b"2")})
    assert applied.survived == 3 and applied.behind == []
    not_applied = check(ops, base, {A: seen(b"1"), B: seen(b"2")})
    assert not_applied.survived == 2 and not_applied.acked == 2 and not_applied.behind == []


def test_a_lost_acknowledged_write_is_found():
    ops = [op(["SET a 1"], {A: [KeyState(b"1")]}),
           op(["INCRBY b 5"], {B: [KeyState(b"5")]})]
    verdict = check(ops, {A: ABSENT, B: ABSENT}, {A: seen(b"1"), B: seen(None)})
    assert verdict.survived == 1 and verdict.acked == 2 and verdict.behind == [B]


def test_a_later_write_kept_after_an_earlier_one_lost_is_a_hole():
    ops = [op(["SET a 1"], {A: [KeyState(b"1")]}),
           op(["SET b 2"], {B: [KeyState(b"2")]})]
    verdict = check(ops, {A: ABSENT, B: ABSENT}, {A: seen(None), B: seen(b"2")})
    assert verdict.survived is None and verdict.behind == [A]
    # Each key alone is a prefix of its own writes.
    assert check(ops, {A: ABSENT, B: ABSENT}, {A: seen(None), B: seen(b"2")}, [A]).survived == 0
    assert check(ops, {A: ABSENT, B: ABSENT}, {A: seen(None), B: seen(b"2")}, [B]).survived == 1


def test_a_multi_key_write_in_flight_applied_in_part_is_a_hole():
    ops = [op(["MSET a 1 b 2"], {A: [KeyState(b"1")], B: [KeyState(b"2")]}, acked=False)]
    verdict = check(ops, {A: ABSENT, B: ABSENT}, {A: seen(b"1"), B: seen(None)})
    assert verdict.survived is None and verdict.behind == []


def test_deadlines_a_key_read_past_its_deadline_never_matches():
    timed = KeyState(b"v", 5000, 5010)
    assert matches(timed, seen(b"v", 5005, at=4000))
    assert matches(timed, seen(None, -2, at=6000))       # gone after the deadline
    assert not matches(timed, seen(None, -2, at=4000))   # gone before it: lost
    late = seen(b"v", 5005, at=6000)
    assert late.readable_past_deadline() and not matches(timed, late)
    assert not matches(timed, seen(b"v", 7000, at=4000))  # a deadline it never had
    assert not matches(KeyState(b"v"), seen(b"v", 5005, at=4000))


def test_a_hole_is_explained_by_the_write_lost_and_a_later_one_kept():
    ops = [op(["SET a 1"], {A: [KeyState(b"1")]}),
           op(["SET b 2"], {B: [KeyState(b"2")]})]
    base = {A: ABSENT, B: ABSENT}
    assert hole_witness(ops, base, {A: seen(None), B: seen(b"2")}, [A, B]) == ((0, A), (1, B))
    assert hole_witness(ops, base, {A: seen(b"1"), B: seen(None)}, [A, B]) is None


class HandWriter:
    """What CycleReport reads of a writer: its id and its writes."""
    def __init__(self, ops):
        self.id = 0
        self.ops = ops


def judge_everysec(flags, seen):
    """One writer's SET a (shard 0) then SET b (shard 1), both acknowledged at 1 ms, judged
    as the crash test would with `flags` after a kill at 2 ms."""
    args = crash_test.parse_args(["--appendfsync", "everysec", *flags])
    ops = [op(["SET a 1"], {A: [KeyState(b"1")]}),
           op(["SET b 2"], {B: [KeyState(b"2")]})]
    base = {A: ABSENT, B: ABSENT}
    report = CycleReport(1, args.appendfsync, 2, args.max_loss_seconds)
    report.strict_order = args.strict_order
    per_shard = {0: check(ops, base, seen, [A]), 1: check(ops, base, seen, [B])}
    report.add_writer(HandWriter(ops), check(ops, base, seen), per_shard, base, seen)
    return report


def test_everysec_is_judged_strictly_by_default_a_sigkill_loses_nothing():
    hole = {A: seen(None), B: seen(b"2")}      # the later write kept on another shard
    suffix = {A: seen(b"1"), B: seen(None)}    # the last write lost
    strict_hole = judge_everysec([], hole)
    assert not strict_hole.ok() and strict_hole.holes == 1
    strict_suffix = judge_everysec([], suffix)
    assert not strict_suffix.ok() and strict_suffix.lost == 1
    # The old judgement, for a build that loses its last second to a process crash.
    relaxed = ["--max-loss-seconds", "2", "--no-strict-order"]
    assert judge_everysec(relaxed, hole).ok()
    assert judge_everysec(relaxed, hole).cross_shard_holes == 1
    loose_suffix = judge_everysec(relaxed, suffix)
    assert loose_suffix.ok() and loose_suffix.window_lost == 1
