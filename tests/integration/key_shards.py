"""Which shard owns a key, computed as the server does (src/types/key_slot.h): Redis
Cluster's CRC16/XMODEM of the key or its {hashtag}, mod 16384 slots, mod the shard count."""


def crc16(data):
    crc = 0
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def hashed_part(key):
    start = key.find(b"{")
    if start >= 0:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def key_shard(key, shards):
    return crc16(hashed_part(key)) % 16384 % shards


def keys_on_each_shard(prefix, shards, per_shard=1):
    """per_shard keys named prefix<n> for every shard, shard by shard."""
    found = {s: [] for s in range(shards)}
    n = 0
    while any(len(v) < per_shard for v in found.values()):
        key = b"%s%d" % (prefix, n)
        shard = key_shard(key, shards)
        if len(found[shard]) < per_shard:
            found[shard].append(key)
        n += 1
    return [k for s in range(shards) for k in found[s]]
