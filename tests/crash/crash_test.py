#!/usr/bin/python3
"""Crash test: cascade-server under write load, killed with SIGKILL at random moments,
restarted on the same directory, and checked.

One cycle: writers (writer.py, one thread and connection each, keys of their own) send
SET, SET PX/EX, APPEND, INCRBY, DEL, EXPIRE/PEXPIRE/PEXPIREAT and, across shards, MSET and
multi-key DEL, recording every acknowledged write; at a random moment within --duration
the server gets SIGKILL. Sometimes (--recovery-kills) the next start is killed again
during its recovery. Then the server must start cleanly (answer PING, log no trouble) and
every key of every writer is read (GET and PEXPIRETIME) and judged (history.py):

  always    every acknowledged write is there: counters at least (here: exactly) their
            last acknowledged value, deleted keys gone, appends with every acknowledged
            chunk, multi-key writes whole, no key readable past its deadline.
  everysec  the same by default: a SIGKILL is a process crash, and under everysec the
            server hands every write to the kernel before it replies (as Redis does), so
            only a machine crash may lose the last second. --max-loss-seconds S allows
            losing writes acknowledged within S seconds of the kill, as a suffix of each
            writer's writes (never a hole; --no-strict-order: a suffix of each shard's).

What is read becomes the next cycle's starting state, so data written in early cycles is
checked again after every later crash, through flushes, compactions and value-log files
(the server runs with 1 MiB memtables and WAL segments so these happen constantly).

Prints one line per cycle and a summary (cycles survived, writes checked, writes lost);
exits 1 on any lost write, hole, anomaly or failed start, 2 on bad arguments. The seed
replays the writers' choices (not the timing). The data directory is kept on failure.
"""

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from history import ABSENT, Observation, check  # noqa: E402
from key_shards import key_shard  # noqa: E402
from report import CycleReport, Totals  # noqa: E402
from resp_client import Client, ConnectionLost  # noqa: E402
from server_process import ServerProcess, StartFailure  # noqa: E402
from writer import Writer, counter_keys, now_ms, string_keys  # noqa: E402

READ_BATCH = 64


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=10, help="kill/restart cycles (default 10)")
    p.add_argument("--seed", type=int, default=None, help="replays the writers' choices")
    p.add_argument("--appendfsync", choices=["always", "everysec"], default="always")
    p.add_argument("--duration", type=float, default=2.0,
                   help="longest run before each kill, seconds (the kill comes at a "
                        "random moment within it; default 2)")
    p.add_argument("--writers", type=int, default=4)
    p.add_argument("--shards", type=int, default=3)
    p.add_argument("--strings", type=int, default=150, help="string keys per writer")
    p.add_argument("--counters", type=int, default=20, help="counter keys per writer")
    p.add_argument("--no-multi", action="store_true", help="no MSET or multi-key DEL")
    p.add_argument("--recovery-kills", type=float, default=0.15,
                   help="share of restarts killed during recovery first (default 0.15)")
    p.add_argument("--saves", type=float, default=0.3,
                   help="share of cycles with a BGSAVE (a checkpoint) at a random moment, "
                        "which the kill may interrupt (default 0.3)")
    p.add_argument("--max-loss-seconds", type=float, default=0.0,
                   help="everysec: the oldest acknowledged write that may be lost, in "
                        "seconds before the kill (default 0: none may be lost)")
    p.add_argument("--strict-order", action=argparse.BooleanOptionalAction, default=True,
                   help="everysec: a writer whose shards lost different spans (a later write "
                        "kept on one shard, an earlier one lost on another) fails the run "
                        "(default; --no-strict-order allows it)")
    p.add_argument("--start-timeout", type=float, default=60.0)
    p.add_argument("--server", default=os.environ.get(
        "CASCADE_BIN", os.path.join(ROOT, "build", "cascade-server")))
    p.add_argument("--dir", default=None, help="parent of the data directory (TMPDIR)")
    p.add_argument("--keep", action="store_true", help="keep the data directory")
    p.add_argument("--quiet", action="store_true", help="no line per cycle")
    args = p.parse_args(argv)
    if args.cycles < 1 or args.writers < 1 or args.duration <= 0 or args.shards < 1:
        p.error("--cycles, --writers, --shards and --duration must be positive")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 32)
    return args


def server_flags(args):
    """Small engine sizes, so flushes, compactions and value-log writes run all the time."""
    return ["--shards", str(args.shards), "--appendonly", "yes",
            "--appendfsync", args.appendfsync,
            "--memtable-size", "1mb", "--wal-segment-size", "1mb", "--wal-segments", "2",
            "--min-blob-size", "256", "--block-cache-size", "4mb"]


def writer_keys(args, w):
    return string_keys(w, args.strings) + counter_keys(w, args.counters)


def read_keys(port, keys):
    """key -> Observation for every key, read in pipelined batches of GET + PEXPIRETIME."""
    client = Client(port)
    seen = {}
    try:
        for start in range(0, len(keys), READ_BATCH):
            batch = keys[start:start + READ_BATCH]
            sent = int(now_ms())
            client.send(*[c for k in batch for c in ([b"GET", k], [b"PEXPIRETIME", k])])
            replies = [client.reply() for _ in range(2 * len(batch))]
            received = int(now_ms()) + 1
            for i, key in enumerate(batch):
                value, expire = replies[2 * i], replies[2 * i + 1]
                if isinstance(value, Exception) or isinstance(expire, Exception):
                    raise RuntimeError(f"reading {key!r}: {value!r} {expire!r}")
                seen[key] = Observation(value, expire, sent, received)
    finally:
        client.close()
    return seen


def restart(server, args, rng, totals):
    """Starts the server again, first killing a start during its recovery now and then."""
    if rng.random() < args.recovery_kills:
        server.spawn()
        time.sleep(rng.uniform(0.0, 0.3))
        if server.kill() is not None:
            raise StartFailure(f"the server exited by itself during recovery:\n"
                               f"{server.log()[-3000:]}")
        totals.recovery_kills += 1
    server.start(args.start_timeout)
    tails, dropped = server.torn_tails()
    totals.torn_tails += tails
    totals.dropped_records += dropped
    trouble = server.trouble()
    if trouble:
        raise StartFailure("the restarted server logged trouble:\n" + "\n".join(trouble[:20]))


def run_cycle(number, server, args, base, totals):
    """One write-kill-restart-check cycle; returns its CycleReport and the keys' new base."""
    rng = random.Random(args.seed * 1_000_003 + number)
    stop = threading.Event()
    writers = []
    for w in range(args.writers):
        keys = writer_keys(args, w)
        writers.append(Writer(w, server.port, rng.randrange(1 << 62), {k: base[k] for k in keys},
                              args.strings, args.counters, not args.no_multi, stop))
    began = time.monotonic()
    for w in writers:
        w.start()
    run_for = rng.uniform(0.05, 1.0) * args.duration
    if rng.random() < args.saves:
        save_at = rng.uniform(0.0, run_for)
        time.sleep(save_at)
        totals.saves += server.bgsave()
        time.sleep(run_for - save_at)
    else:
        time.sleep(run_for)
    totals.add_info(server.info("storage"))
    kill_time = now_ms()
    died = server.kill()
    stop.set()
    for w in writers:
        w.join(timeout=60)
    report = CycleReport(number, args.appendfsync, kill_time, args.max_loss_seconds)
    report.ran = time.monotonic() - began
    report.strict_order = args.strict_order
    if died is not None:
        report.failures.append(f"the server died by itself (exit status {died}) before the kill")
    for w in writers:
        if w.is_alive() or w.failure:
            report.failures.append(f"writer {w.id} failed: {w.failure or 'did not stop'}")
        report.anomalies += [f"writer {w.id}: {a}" for a in w.anomalies]

    restart(server, args, rng, totals)
    prune_checkpoints(server.data, keep=2)
    all_keys = [k for w in writers for k in w.keys()]
    seen = read_keys(server.port, all_keys)
    for w in writers:
        keys = w.keys()
        wbase = {k: base[k] for k in keys}
        verdict = check(w.ops, wbase, seen)
        if verdict.survived is None or verdict.behind:
            per_shard = {s: check(w.ops, wbase, seen, [k for k in keys
                                                       if key_shard(k, args.shards) == s])
                         for s in range(args.shards)}
        else:
            per_shard = None
        report.add_writer(w, verdict, per_shard, wbase, seen)
    report.expired_readable = [k for k, o in seen.items() if o.readable_past_deadline()]
    new_base = {k: seen[k].as_state() for k in all_keys}
    return report, new_base


def prune_checkpoints(data, keep):
    """Deletes all but the newest `keep` whole checkpoints (with the server up: it never
    touches a finished checkpoint), so a long run's checkpoints do not pin every table."""
    parent = os.path.join(data, "checkpoints")
    if not os.path.isdir(parent):
        return
    whole = sorted(name for name in os.listdir(parent) if not name.endswith(".tmp"))
    for name in whole[:-keep]:
        shutil.rmtree(os.path.join(parent, name), ignore_errors=True)


def main(argv=None):
    args = parse_args(argv)
    if not os.access(args.server, os.X_OK):
        print(f"crash-test: no server binary at {args.server} (build it, or --server)",
              file=sys.stderr)
        return 2
    workdir = tempfile.mkdtemp(prefix="cascade-crash-", dir=args.dir)
    server = ServerProcess(args.server, workdir, server_flags(args))
    totals = Totals(args)
    print(f"crash-test: seed {args.seed}, appendfsync {args.appendfsync}, {args.cycles} "
          f"cycles of up to {args.duration:g} s, {args.writers} writers, {args.shards} shards, "
          f"dir {workdir}", flush=True)
    base = {k: ABSENT for w in range(args.writers) for k in writer_keys(args, w)}
    started = time.monotonic()
    try:
        server.start(args.start_timeout)
        for number in range(1, args.cycles + 1):
            try:
                report, base = run_cycle(number, server, args, base, totals)
            except (StartFailure, ConnectionLost, RuntimeError) as e:
                totals.fatal = f"cycle {number}: {e}"
                break
            totals.add(report)
            if not args.quiet or not report.ok():
                print(report.line(), flush=True)
            for detail in report.details():
                print("   ", detail, flush=True)
            if not report.ok():
                break
    finally:
        server.stop()
    totals.seconds = time.monotonic() - started
    totals.data_bytes = directory_bytes(server.data)
    print(totals.summary(), flush=True)
    ok = totals.ok()
    if ok and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"crash-test: data directory and server log kept in {workdir}", flush=True)
    return 0 if ok else 1


def directory_bytes(path):
    total = 0
    for parent, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(parent, name))
            except OSError:
                pass
    return total


if __name__ == "__main__":
    sys.exit(main())
