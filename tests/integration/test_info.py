"""INFO parsed by redis-py: every section Redis 7.0 prints, with Redis's field names and
values that mean something here, the Keyspace counts per database, and cascade's
# Storage section summed over the shards."""

import os
import time
import redis

from conftest import parse

REDIS_SECTIONS = {
    "server": ["redis_version", "redis_mode", "os", "arch_bits", "multiplexing_api",
               "process_id", "run_id", "tcp_port", "uptime_in_seconds", "executable"],
    "clients": ["connected_clients", "maxclients", "blocked_clients"],
    "memory": ["used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak",
               "total_system_memory", "maxmemory", "maxmemory_policy",
               "mem_fragmentation_ratio", "mem_allocator"],
    "persistence": ["loading", "rdb_changes_since_last_save", "rdb_bgsave_in_progress",
                    "rdb_last_save_time", "rdb_last_bgsave_status", "aof_enabled",
                    "aof_rewrite_in_progress"],
    "stats": ["total_connections_received", "total_commands_processed",
              "total_net_input_bytes", "total_net_output_bytes", "rejected_connections",
              "evicted_keys", "total_error_replies"],
    "replication": ["role", "connected_slaves", "master_repl_offset"],
    "cpu": ["used_cpu_sys", "used_cpu_user"],
    "cluster": ["cluster_enabled"],
}
STORAGE_FIELDS = [
    "storage_shards", "storage_sst_files", "storage_sst_bytes", "storage_l0_files",
    "storage_vlog_files", "storage_vlog_live_bytes", "storage_vlog_garbage_bytes",
    "storage_flushes", "storage_compactions", "storage_write_amplification",
    "storage_block_cache_hit_ratio", "storage_write_stall_micros", "storage_wal_syncs",
    "storage_block_cache_hits", "storage_block_cache_misses", "storage_vlog_reads",
    "storage_vlog_cache_hits", "storage_wal_recovered_batches",
    "storage_vlog_values_compressed", "storage_vlog_values_incompressible",
    "storage_vlog_compression_skips",
]


def client(server, db=0):
    return redis.Redis(host="127.0.0.1", port=server.port, db=db, socket_timeout=10)


def test_every_redis_section_is_there_with_meaningful_values(cascade):
    r = client(cascade)
    for section, fields in REDIS_SECTIONS.items():
        info = r.info(section)
        missing = [f for f in fields if f not in info]
        assert not missing, f"{section}: missing {missing}"
    info = r.info("everything")
    assert info["tcp_port"] == cascade.port
    assert info["process_id"] == cascade.proc.pid
    assert info["connected_clients"] >= 1
    assert info["role"] == "master"
    assert info["cluster_enabled"] == 0
    assert info["aof_enabled"] == 1
    assert 0 < info["used_memory"] <= info["used_memory_peak"]
    # The memtables are part of used_memory, their point indexes (mappings the allocator
    # does not count) included: the dataset's share never passes 100%.
    assert info["used_memory"] >= info["storage_memtable_bytes"]
    assert info["used_memory_dataset_perc"].rstrip("%") and \
        float(info["used_memory_dataset_perc"].rstrip("%")) <= 100
    assert info["used_memory_rss"] > 1 << 20
    assert info["total_system_memory"] > info["used_memory_rss"]
    assert info["total_commands_processed"] >= len(REDIS_SECTIONS)
    # The kernel splits a process's CPU time between user and system from tick samples, so
    # a server that has barely run may show all of it as system time.
    assert info["used_cpu_user"] + info["used_cpu_sys"] > 0


def test_sections_can_be_asked_for_one_by_one(cascade, raw):
    reply = parse(raw(cascade.port).call("INFO storage cpu")).decode()
    headers = [line for line in reply.split("\r\n") if line.startswith("#")]
    assert headers == ["# CPU", "# Storage"]


def test_keyspace_counts_keys_and_expires_per_database(cascade):
    r0, r3 = client(cascade), client(cascade, db=3)
    assert r0.info("keyspace") == {}
    for i in range(20):
        r0.set(f"key{i}", "v")
    r0.set("ttl-a", "v", ex=1000)
    r0.set("ttl-b", "v", px=2_000_000)
    r0.set("gone", "v", px=1)
    r3.set("other", "v")
    r0.delete("key0")
    time.sleep(0.01)  # "gone" is past its 1 ms however fast the commands above ran
    info = r0.info("keyspace")
    assert set(info) == {"db0", "db3"}
    assert info["db0"]["keys"] == 21  # 19 plain keys and 2 with a ttl; "gone" expired
    assert info["db0"]["expires"] == 2
    assert 1_000_000 < info["db0"]["avg_ttl"] <= 1_500_000
    assert info["db3"] == {"keys": 1, "expires": 0, "avg_ttl": 0}


def test_storage_section_sums_the_shards_engines(cascade):
    r = client(cascade)
    info = r.info("storage")
    missing = [f for f in STORAGE_FIELDS if f not in info]
    assert not missing
    assert info["storage_shards"] == 2
    assert info["storage_flushes"] == 0 and info["storage_sst_files"] == 0
    assert info["storage_write_amplification"] == 0
    for i in range(100):
        r.set(f"k{i}", "x" * 100)
    assert r.info("storage")["storage_wal_syncs"] >= 1  # appendfsync always
    assert r.save() is True  # flushes every shard's memtable
    info = r.info("storage")
    assert info["storage_flushes"] == 2
    assert info["storage_sst_files"] == 2 and info["storage_l0_files"] == 2
    assert info["storage_sst_bytes"] > 0
    assert info["storage_write_amplification"] > 0
    assert info["storage_vlog_files"] == 0  # 100-byte values stay in the tables
    big = [os.urandom(2000) for _ in range(20)]  # incompressible, past min-blob-size (512)
    for i, value in enumerate(big):
        r.set(f"big{i}", value)
    assert r.save() is True
    info = r.info("storage")
    assert info["storage_vlog_files"] >= 1 and info["storage_vlog_live_bytes"] >= 20 * 2000
    # 20 random values over two shards: each shard's writer tries 4, then skips some.
    assert info["storage_vlog_values_compressed"] == 0
    assert info["storage_vlog_values_incompressible"] >= 8
    assert info["storage_vlog_values_incompressible"] + info["storage_vlog_compression_skips"] == 20
    assert info["storage_vlog_compression_skips"] >= 1
    for i in range(20):
        r.set(f"text{i}", "abc" * 700)  # compresses
    assert r.info("storage")["storage_vlog_values_compressed"] >= 1
    before = r.info("storage")
    assert r.get("big7") == big[7]
    # The point read of a value-log value: read from disk once, then a cache hit.
    assert r.get("big7") == big[7]
    after = r.info("storage")
    assert after["storage_vlog_reads"] + after["storage_vlog_cache_hits"] >= \
        before["storage_vlog_reads"] + before["storage_vlog_cache_hits"] + 2
    assert after["storage_block_cache_hits"] > before["storage_block_cache_hits"]
    for i in range(100):
        assert r.get(f"k{i}") == b"x" * 100
    assert 0 <= info["storage_block_cache_hit_ratio"] <= 1
    assert r.info("storage")["storage_block_cache_hit_ratio"] > 0


def test_config_set_storage_directives_reach_every_shards_engine(start_cascade):
    server = start_cascade("--memtable-size", "64mb", "--min-blob-size", "100mb",
                           "--block-cache-size", "8mb", "--appendfsync", "everysec")
    r = client(server)
    value = os.urandom(2000)  # incompressible: tables and caches as large as the data
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"a{i}", value)
    pipe.execute()
    assert r.info("storage")["storage_flushes"] == 0  # 1 MB in 64 MB memtables

    # A smaller memtable: the shards flush as the writes go on, no SAVE needed.
    assert r.config_set("memtable-size", "1mb") is True
    for i in range(1500):
        pipe.set(f"b{i}", value)
    pipe.execute()
    deadline = time.monotonic() + 20
    while r.info("storage")["storage_flushes"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    info = r.info("storage")
    assert info["storage_flushes"] >= 2
    assert info["storage_vlog_files"] == 0  # min-blob-size 100mb kept every value inline

    # A blob threshold: the next flush sends the big values to the value log.
    assert r.config_set("min-blob-size", "512") is True
    for i in range(100):
        pipe.set(f"c{i}", value)
    pipe.execute()
    assert r.save() is True
    assert r.info("storage")["storage_vlog_live_bytes"] >= 100 * 2000

    # Reads fill the caches; a smaller capacity evicts at once, on both shards.
    for prefix, count in (("a", 500), ("b", 1500)):
        for i in range(0, count, 3):
            pipe.get(f"{prefix}{i}")
        assert all(v == value for v in pipe.execute())
    assert r.info("storage")["storage_block_cache_bytes"] > 2 * 1024 * 1024
    assert r.config_set("block-cache-size", "1mb") is True
    assert r.info("storage")["storage_block_cache_bytes"] <= 2 * 1024 * 1024
    assert r.get("b7") == value

    assert r.info("storage")["storage_compaction_rate_limit"] == 0
    assert r.config_set("compaction-rate-limit", "10mb") is True
    assert r.info("storage")["storage_compaction_rate_limit"] == 10 * 1024 * 1024
    assert r.config_get("compaction-rate-limit") == {"compaction-rate-limit": "10485760"}
