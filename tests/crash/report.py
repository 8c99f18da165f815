"""The crash test's judgement of a cycle (CycleReport) and of the run (Totals), and the
lines it prints. A write counts as "lost" when the rules of the mode say it had to
survive: under always every acknowledged write; under everysec those acknowledged more
than --max-loss-seconds before the kill (by default 0: every one), and any write before a
hole."""

from history import hole_witness, latest_write

DETAILS_PER_WRITER = 6


def show_value(value):
    if value is None:
        return "(none)"
    tag = b".".join(value.split(b".")[:2]) if value[:1].isdigit() else value[:12]
    return f"{tag.decode(errors='replace')}..({len(value)} B)"


class CycleReport:
    def __init__(self, number, mode, kill_time, max_loss_seconds):
        self.number = number
        self.mode = mode
        self.kill_time = kill_time
        self.max_loss_ms = max_loss_seconds * 1000.0
        self.ran = 0.0
        self.acked = 0
        self.in_flight = 0
        self.keys = 0
        self.lost = 0
        self.holes = 0
        self.window_lost = 0      # everysec: acknowledged writes lost as a suffix
        self.window_age_ms = 0.0  # everysec: the oldest of them, before the kill
        self.cross_shard_holes = 0  # everysec: writers whose shards lost different spans
        self.strict_order = False   # count those as holes
        self.failures = []
        self.anomalies = []
        self.expired_readable = []
        self.notes = []

    def ok(self):
        return not (self.lost or self.holes or self.failures or self.anomalies or
                    self.expired_readable)

    def add_writer(self, writer, verdict, per_shard, base, seen):
        self.acked += verdict.acked
        self.in_flight += int(verdict.in_flight)
        self.keys += len(base)
        if verdict.survived is not None:
            if self.mode == "always" and verdict.survived < verdict.acked:
                self.lost += len(verdict.behind)
                self.notes.append(f"writer {writer.id}: {verdict.acked - verdict.survived} of "
                                  f"{verdict.acked} acknowledged writes missing")
                self.describe_keys(writer, verdict.behind, base, seen)
            elif self.mode == "everysec":
                self.account_unsynced(writer, verdict.ops[verdict.survived:verdict.acked])
            return
        torn = [s for s, v in per_shard.items() if v.survived is None]
        if torn or self.mode == "always":
            self.holes += 1
            self.lost += max(1, len(verdict.behind))
            self.notes.append(
                f"writer {writer.id}: no prefix of its {len(writer.ops)} writes explains what "
                f"was read (a hole; " + (f"within shard(s) {torn})" if torn else
                                         "across shards only: each shard alone is a prefix)"))
            self.describe_hole(writer, verdict, per_shard, torn, base, seen)
            self.describe_keys(writer, verdict.behind, base, seen)
            return
        # everysec, and each shard's writes are a prefix: the shards lost different spans.
        lost_ops = [op for v in per_shard.values() for op in v.ops[v.survived:v.acked]]
        self.cross_shard_holes += 1
        self.describe_cross_shard_hole(writer, per_shard)
        self.account_unsynced(writer, lost_ops)
        if self.strict_order:
            self.holes += 1
            self.lost += len(lost_ops)

    def account_unsynced(self, writer, lost_ops):
        """everysec: acknowledged writes lost as a suffix are allowed if they are recent
        (--max-loss-seconds); those acknowledged before the window count as lost, and with
        no window (0, the default) every one does, even one acknowledged in the instant
        between the kill's timestamp and the signal."""
        lost_ops = list({id(op): op for op in lost_ops}.values())
        if not lost_ops:
            return
        self.window_lost += len(lost_ops)
        age = self.kill_time - min(op.acked for op in lost_ops)
        self.window_age_ms = max(self.window_age_ms, age)
        too_old = [op for op in lost_ops
                   if self.max_loss_ms <= 0 or self.kill_time - op.acked > self.max_loss_ms]
        if too_old:
            self.lost += len(too_old)
            window = (f"more than {self.max_loss_ms / 1000:g} s before the kill "
                      if self.max_loss_ms > 0 else "")
            self.notes.append(f"writer {writer.id}: lost {len(too_old)} writes acknowledged "
                              f"{window}(oldest {age / 1000:.2f} s before the kill): "
                              f"{too_old[0].describe()}")

    def describe_cross_shard_hole(self, writer, per_shard):
        """Names the earliest lost write and a later write of the same writer, on another
        shard, that survived it."""
        index = {id(op): i for i, op in enumerate(writer.ops)}
        lost = [(index[id(op)], s) for s, v in per_shard.items()
                for op in v.ops[v.survived:v.acked]]
        kept = [(index[id(v.ops[v.survived - 1])], s) for s, v in per_shard.items()
                if v.survived > 0]
        if not lost or not kept:
            return
        first_lost, lost_shard = min(lost)
        last_kept, kept_shard = max(kept)
        if last_kept < first_lost:
            return
        ops = writer.ops
        self.notes.append(
            f"writer {writer.id}: across shards: write #{first_lost} (shard {lost_shard}, "
            f"acknowledged {(self.kill_time - ops[first_lost].acked) / 1000:.3f} s before the "
            f"kill) lost: {ops[first_lost].describe(60)}; write #{last_kept} (shard "
            f"{kept_shard}) kept: {ops[last_kept].describe(60)}")

    def describe_hole(self, writer, verdict, per_shard, torn, base, seen):
        """The two writes that make the hole: an earlier one lost, a later one kept."""
        judged = per_shard[torn[0]] if torn else verdict
        witness = hole_witness(judged.ops, base, seen, judged.keys)
        if witness is None:
            return
        index = {id(op): i for i, op in enumerate(writer.ops)}
        for what, (i, key) in zip(("lost", "kept"), witness):
            op = judged.ops[i]
            when = "in flight" if op.acked is None else \
                f"acknowledged {(self.kill_time - op.acked) / 1000:.3f} s before the kill"
            self.notes.append(f"  {what}: write #{index[id(op)]} ({when}) on "
                              f"{key.decode()}: {op.describe()}; read "
                              f"{show_value(seen[key].value)}")

    def describe_keys(self, writer, keys, base, seen):
        for key in keys[:DETAILS_PER_WRITER]:
            i = latest_write(writer.ops, key)
            seen_here = seen[key]
            if i is None:
                expected = f"as before the cycle: {show_value(base[key].value)}"
            else:
                op = writer.ops[i]
                when = "in flight" if op.acked is None else \
                    f"acknowledged {(self.kill_time - op.acked) / 1000:.3f} s before the kill"
                expected = f"write #{i} ({when}): {op.describe()}"
            self.notes.append(f"  {key.decode()}: read {show_value(seen_here.value)} "
                              f"(PEXPIRETIME {seen_here.expire}); last write {expected}")

    def line(self):
        text = (f"cycle {self.number}: killed after {self.ran:.2f} s; {self.acked} writes "
                f"acknowledged, {self.in_flight} in flight; {self.keys} keys read; "
                f"lost {self.lost}")
        if self.mode == "everysec":
            text += (f"; {self.window_lost} lost as a suffix"
                     + (f" (oldest {self.window_age_ms / 1000:.2f} s before the kill)"
                        if self.window_lost else "")
                     + (f", {self.cross_shard_holes} writers with a hole across shards"
                        if self.cross_shard_holes else ""))
        if not self.ok():
            text += " FAILED"
        return text

    def details(self):
        out = list(self.notes)
        out += [f"failure: {f}" for f in self.failures]
        out += [f"anomaly: {a}" for a in self.anomalies]
        out += [f"readable past its deadline: {k.decode()}" for k in self.expired_readable]
        return out


class Totals:
    def __init__(self, args):
        self.args = args
        self.cycles = 0
        self.survived = 0
        self.acked = 0
        self.in_flight = 0
        self.keys = 0
        self.lost = 0
        self.holes = 0
        self.window_lost = 0
        self.window_age_ms = 0.0
        self.cross_shard_holes = 0
        self.anomalies = 0
        self.expired_readable = 0
        self.recovery_kills = 0
        self.saves = 0
        self.torn_tails = 0
        self.dropped_records = 0
        self.flushes = 0
        self.compactions = 0
        self.vlog_files = 0
        self.fatal = None
        self.seconds = 0.0
        self.data_bytes = 0

    def add_info(self, info):
        """INFO storage just before a kill: its counters run from the server's start."""
        self.flushes += int(info.get("storage_flushes", 0))
        self.compactions += int(info.get("storage_compactions", 0))
        self.vlog_files = max(self.vlog_files, int(info.get("storage_vlog_files", 0)))

    def add(self, report):
        self.cycles += 1
        self.survived += int(report.ok())
        self.acked += report.acked
        self.in_flight += report.in_flight
        self.keys += report.keys
        self.lost += report.lost
        self.holes += report.holes
        self.window_lost += report.window_lost
        self.window_age_ms = max(self.window_age_ms, report.window_age_ms)
        self.cross_shard_holes += report.cross_shard_holes
        self.anomalies += len(report.anomalies) + len(report.failures)
        self.expired_readable += len(report.expired_readable)

    def ok(self):
        return (self.fatal is None and self.survived == self.cycles == self.args.cycles and
                self.lost == 0 and self.holes == 0)

    def summary(self):
        lines = []
        if self.fatal:
            lines.append(f"FAILED: {self.fatal}")
        lines.append(f"cycles survived: {self.survived}/{self.args.cycles}")
        lines.append(f"writes checked: {self.acked} acknowledged ({self.in_flight} more in "
                     f"flight at a kill), {self.keys} key reads")
        lines.append(f"writes lost: {self.lost}")
        if self.args.appendfsync == "everysec":
            lines.append(f"acknowledged writes lost as a suffix: {self.window_lost}, the "
                         f"oldest {self.window_age_ms / 1000:.2f} s before its kill "
                         f"(limit {self.args.max_loss_seconds:g} s)")
            lines.append(f"holes across shards (each shard's losses a suffix, a writer's "
                         f"not): {self.cross_shard_holes} writer-cycles"
                         + (" (counted as holes: --strict-order)" if self.args.strict_order
                            else ""))
        lines.append(f"holes: {self.holes}, keys readable past their deadline: "
                     f"{self.expired_readable}, anomalies: {self.anomalies}")
        lines.append(f"server: {self.flushes} flushes, {self.compactions} compactions, up to "
                     f"{self.vlog_files} value-log files, {self.data_bytes / 2**20:.0f} MiB on "
                     f"disk at the end; {self.saves} checkpoints begun (BGSAVE); "
                     f"{self.recovery_kills} kills during recovery; "
                     f"{self.torn_tails} torn WAL tails at restarts "
                     f"({self.dropped_records} unsynced records dropped)")
        lines.append(f"seed {self.args.seed}, {self.seconds:.0f} s: "
                     f"{'PASSED' if self.ok() else 'FAILED'}")
        return "\n".join(lines)
