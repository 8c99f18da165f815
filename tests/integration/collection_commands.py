"""Seeded random commands over hashes, lists, sets, sorted sets, the keyspace and MULTI/EXEC
blocks, for test_differential_collections.py. step(rng) returns a list of steps; a step is a
command (a list of bytes) or one of these tuples the harness acts out:

  ("other", command)       sent on the second connection of each server (a write another
                           client makes, for WATCH)
  ("restore", src, dst, o) redis-server's DUMP of src RESTOREd at dst on both servers
                           (o: extra RESTORE arguments)

Keys are on both shards of a two-shard cascade (key_shards.py) and in {hashtag} groups;
each family mostly uses its own keys, now and then another's (WRONGTYPE). Arguments mix
valid values with bad options, wrong arity, out-of-range and non-numeric numbers, NaN and
infinite scores. Timeouts of the blocking commands are tiny (never 0: nothing here may
block for good), and BZPOPMIN/BZPOPMAX/BZMPOP are left out."""

from key_shards import keys_on_each_shard

SHARDS = 2
FAMILY_KEYS = {family: keys_on_each_shard(family.encode(), SHARDS, per_shard=2)
               + [b"{%s}a" % family.encode(), b"{%s}b" % family.encode()]
               for family in ("h", "l", "s", "z")}
STRING_KEYS = [b"str", b"{s}str"]
ALL_KEYS = [k for keys in FAMILY_KEYS.values() for k in keys] + STRING_KEYS

LONG = b"m" * 70  # past the 64-byte listpack value limit
MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"", b"\x00\xff", b"x y"]
INT_MEMBERS = [b"1", b"2", b"3", b"-7", b"10", b"9223372036854775807", b"01", b"-0"]
FIELDS = [b"f1", b"f2", b"f3", b"n", b"", b"1"]
HVALUES = [b"v", b"", b"10", b"-3", b"1.5", b"abc", b"9223372036854775807",
           b"-9223372036854775808", b"3e2", b" 1", b"inf", b"1e308", b"0x10", b"5.0"]
ITEMS = [b"a", b"b", b"c", b"1", b"", b"x"]
SCORES = [b"1", b"2", b"-1", b"0", b"2.5", b"-0", b"inf", b"-inf", b"+inf", b"1e308",
          b"3.0000000000000001", b"0.1", b"10", b"-2.5e-3"]
BAD_SCORES = [b"nan", b"abc", b"", b"1e400", b"1e-400", b"0x10", b" 1", b"1 ", b"inf1",
              b"NaN", b"infinity", b"-nan"]
SCORE_BOUNDS = [b"-inf", b"+inf", b"inf", b"0", b"(1", b"1", b"2.5", b"(2.5", b"(inf",
                b"(-inf", b"-1", b"10", b"x", b"(", b"nan", b"((1", b"1e400"]
LEX_BOUNDS = [b"-", b"+", b"[a", b"(a", b"[c", b"(d", b"[", b"(", b"a", b"[\x00", b"[x y",
              b"[b", b"(e"]
INTEGERS = [b"0", b"1", b"2", b"3", b"-1", b"-2", b"-3", b"5", b"-100", b"100",
            b"9223372036854775807", b"-9223372036854775808", b"9223372036854775808", b"x",
            b"", b"1.5", b" 1"]
INCREMENTS = [b"1", b"-1", b"5", b"0", b"9223372036854775807", b"-9223372036854775808",
              b"x", b"1.5", b""]
FLOAT_INCREMENTS = [b"1.5", b"-2", b"0", b"1e308", b"inf", b"-inf", b"nan", b"x", b"3e2",
                    b"0.1", b"", b"1e400"]
COUNTS = [b"0", b"1", b"2", b"3", b"5", b"100", b"-1", b"-2", b"-5", b"x", b"",
          b"9223372036854775807", b"-9223372036854775808", b"1.5"]
TIMEOUTS = [b"0.01", b"0.005", b"-1", b"x", b"0.02", b"1e400", b"inf"]
PATTERNS = [b"*", b"a*", b"[a-c]", b"?", b"f*", b"*1*", b"nomatch", b"\\*"]
TYPES = [b"string", b"list", b"set", b"zset", b"hash", b"stream", b"bogus", b"SET"]
FAR = 4102444800  # 2100-01-01
# A sorted set whose members mostly share the score 0, for the lex ranges (which Redis
# defines only over equal scores; the harness skips them on a set with mixed scores).
LEX_KEY = FAMILY_KEYS["z"][0]
LEX_COMMANDS = {b"ZRANGEBYLEX", b"ZREVRANGEBYLEX", b"ZLEXCOUNT", b"ZREMRANGEBYLEX"}

# Names of commands whose replies are random by nature (compared for what they promise) or
# that read the whole keyspace; none of them is queued in a MULTI block.
RANDOM = {b"SPOP", b"SRANDMEMBER", b"HRANDFIELD", b"ZRANDMEMBER"}
NOT_IN_MULTI = RANDOM | {b"SCAN", b"SSCAN", b"HSCAN", b"ZSCAN", b"DUMP", b"OBJECT", b"TTL",
                         b"PTTL", b"EXPIRETIME", b"SELECT", b"RESTORE", b"MULTI", b"EXEC",
                         b"DISCARD", b"WATCH", b"UNWATCH", b"FLUSHALL", b"FLUSHDB", b"MOVE",
                         b"EXPIRE", b"PEXPIRE", b"EXPIREAT", b"COPY", b"RANDOMKEY", b"KEYS"}


def pick(rng, seq):
    return seq[rng.randrange(len(seq))]


def lex_source(cmd):
    """The sorted set a lex-range command reads, or None for any other command."""
    name = cmd[0].upper()
    if name in LEX_COMMANDS and len(cmd) > 1:
        return cmd[1]
    if name in (b"ZRANGE", b"ZRANGESTORE") and any(a.upper() == b"BYLEX" for a in cmd):
        at = 2 if name == b"ZRANGESTORE" else 1
        return cmd[at] if len(cmd) > at else None
    return None


def key(rng, family):
    if rng.random() < 0.12:
        return pick(rng, ALL_KEYS)
    return pick(rng, FAMILY_KEYS[family])


def keys(rng, family, low, high):
    return [key(rng, family) for _ in range(rng.randint(low, high))]


def member(rng):
    roll = rng.random()
    if roll < 0.02:
        return LONG
    return pick(rng, INT_MEMBERS if roll < 0.35 else MEMBERS)


def members(rng, low=1, high=4):
    return [member(rng) for _ in range(rng.randint(low, high))]


def count(rng):
    return pick(rng, COUNTS) if rng.random() < 0.4 else b"%d" % rng.randint(-3, 6)


def index(rng):
    return pick(rng, INTEGERS) if rng.random() < 0.2 else b"%d" % rng.randint(-8, 8)


def numkeys(rng, ks):
    """A numkeys argument: right most of the time, else too many, zero, negative or text."""
    if rng.random() < 0.85:
        return b"%d" % len(ks)
    return pick(rng, [b"0", b"-1", b"x", b"%d" % (len(ks) + 1), b"%d" % (len(ks) + 5)])


def maybe_cut(rng, cmd, chance=0.03):
    """Now and then one argument too few (wrong arity or a missing option value)."""
    return cmd[:-1] if len(cmd) > 1 and rng.random() < chance else cmd


# ---- hashes -------------------------------------------------------------------------------

def hvalue(rng):
    return LONG if rng.random() < 0.02 else pick(rng, HVALUES)


def hash_command(rng):
    k = key(rng, "h")
    kind = rng.randrange(18)
    if kind in (0, 1, 2):
        args = [b"HSET" if kind else b"HMSET", k]
        for _ in range(rng.randint(1, 3)):
            args += [pick(rng, FIELDS), hvalue(rng)]
        return maybe_cut(rng, args, 0.05)
    if kind == 3:
        return [b"HSETNX", k, pick(rng, FIELDS), hvalue(rng)]
    if kind == 4:
        return [b"HGET", k, pick(rng, FIELDS)]
    if kind == 5:
        return [b"HMGET", k] + [pick(rng, FIELDS) for _ in range(rng.randint(1, 4))]
    if kind == 6:
        return [pick(rng, [b"HGETALL", b"HKEYS", b"HVALS", b"HLEN"]), k]
    if kind == 7:
        return [b"HDEL", k] + [pick(rng, FIELDS) for _ in range(rng.randint(1, 3))]
    if kind == 8:
        return [pick(rng, [b"HEXISTS", b"HSTRLEN"]), k, pick(rng, FIELDS)]
    if kind in (9, 10):
        return [b"HINCRBY", k, pick(rng, FIELDS), pick(rng, INCREMENTS)]
    if kind == 11:
        return [b"HINCRBYFLOAT", k, pick(rng, FIELDS), pick(rng, FLOAT_INCREMENTS)]
    if kind in (12, 13):
        args = [b"HRANDFIELD", k]
        if rng.random() < 0.8:
            args.append(count(rng))
            if rng.random() < 0.5:
                args.append(pick(rng, [b"WITHVALUES", b"withvalues", b"WITHSCORES", b"x"]))
        return args
    if kind == 14:
        return scan(rng, b"HSCAN", k)
    # wrong arity
    name = pick(rng, [b"HSET", b"HGET", b"HDEL", b"HLEN", b"HINCRBY", b"HRANDFIELD", b"HSCAN",
                      b"HMGET", b"HSETNX", b"HSTRLEN", b"HINCRBYFLOAT", b"HGETALL"])
    return [name] + [k] * rng.choice([0, 4])


# ---- lists --------------------------------------------------------------------------------

def item(rng):
    return LONG if rng.random() < 0.02 else pick(rng, ITEMS)


def side(rng):
    return pick(rng, [b"LEFT", b"RIGHT", b"left", b"RIGHT", b"middle"]) \
        if rng.random() < 0.1 else pick(rng, [b"LEFT", b"RIGHT"])


def list_command(rng):
    k = key(rng, "l")
    kind = rng.randrange(24)
    if kind in (0, 1, 2, 3):
        return [pick(rng, [b"LPUSH", b"RPUSH", b"RPUSH", b"LPUSHX", b"RPUSHX"]), k] + \
            [item(rng) for _ in range(rng.randint(1, 4))]
    if kind in (4, 5):
        args = [pick(rng, [b"LPOP", b"RPOP"]), k]
        return args + [count(rng)] if rng.random() < 0.5 else args
    if kind == 6:
        return [b"LLEN", k]
    if kind in (7, 8):
        return [b"LRANGE", k, index(rng), index(rng)]
    if kind == 9:
        return [b"LINDEX", k, index(rng)]
    if kind == 10:
        return [b"LSET", k, index(rng), item(rng)]
    if kind == 11:
        where = pick(rng, [b"BEFORE", b"AFTER", b"after", b"middle"])
        return [b"LINSERT", k, where, item(rng), item(rng)]
    if kind == 12:
        return [b"LREM", k, index(rng), item(rng)]
    if kind == 13:
        return [b"LTRIM", k, index(rng), index(rng)]
    if kind == 14:
        args = [b"LPOS", k, item(rng)]
        for _ in range(rng.randint(0, 3)):
            option = pick(rng, [b"RANK", b"COUNT", b"MAXLEN", b"rank", b"BOGUS"])
            args += [option, count(rng)]
        return maybe_cut(rng, args)
    if kind == 15:
        return [b"LMOVE", key(rng, "l"), key(rng, "l"), side(rng), side(rng)]
    if kind == 16:
        return [b"RPOPLPUSH", key(rng, "l"), key(rng, "l")]
    if kind == 17:
        ks = keys(rng, "l", 1, 3)
        args = [b"LMPOP", numkeys(rng, ks)] + ks + [side(rng)]
        if rng.random() < 0.5:
            args += [pick(rng, [b"COUNT", b"count", b"LIMIT"]), count(rng)]
        return maybe_cut(rng, args)
    if kind == 18:
        return [pick(rng, [b"BLPOP", b"BRPOP"])] + keys(rng, "l", 1, 3) + [pick(rng, TIMEOUTS)]
    if kind == 19:
        return [b"BLMOVE", key(rng, "l"), key(rng, "l"), side(rng), side(rng),
                pick(rng, TIMEOUTS)]
    if kind == 20:
        return [b"BRPOPLPUSH", key(rng, "l"), key(rng, "l"), pick(rng, TIMEOUTS)]
    if kind == 21:
        ks = keys(rng, "l", 1, 3)
        args = [b"BLMPOP", pick(rng, TIMEOUTS), numkeys(rng, ks)] + ks + [side(rng)]
        if rng.random() < 0.5:
            args += [b"COUNT", count(rng)]
        return maybe_cut(rng, args)
    name = pick(rng, [b"LPUSH", b"LPOP", b"LRANGE", b"LINDEX", b"LSET", b"LINSERT", b"LREM",
                      b"LTRIM", b"LPOS", b"LMOVE", b"RPOPLPUSH", b"LMPOP", b"BLPOP", b"BLMOVE",
                      b"BLMPOP", b"LLEN", b"RPUSHX"])
    return [name] + [k] * rng.choice([0, 1, 6])


# ---- sets ---------------------------------------------------------------------------------

def set_command(rng):
    k = key(rng, "s")
    kind = rng.randrange(20)
    if kind in (0, 1, 2, 3):
        return [b"SADD", k] + members(rng)
    if kind == 4:
        return [b"SREM", k] + members(rng, 1, 3)
    if kind == 5:
        return [pick(rng, [b"SMEMBERS", b"SCARD"]), k]
    if kind == 6:
        return [b"SISMEMBER", k, member(rng)]
    if kind == 7:
        return [b"SMISMEMBER", k] + members(rng, 1, 3)
    if kind in (8, 9):
        return [pick(rng, [b"SPOP", b"SRANDMEMBER"]), k] + ([count(rng)] if rng.random() < 0.6
                                                           else [])
    if kind == 10:
        return [b"SMOVE", key(rng, "s"), key(rng, "s"), member(rng)]
    if kind == 11:
        return [pick(rng, [b"SINTER", b"SUNION", b"SDIFF"])] + keys(rng, "s", 1, 4)
    if kind in (12, 13):
        return [pick(rng, [b"SINTERSTORE", b"SUNIONSTORE", b"SDIFFSTORE"])] + keys(rng, "s", 2, 4)
    if kind == 14:
        ks = keys(rng, "s", 1, 3)
        args = [b"SINTERCARD", numkeys(rng, ks)] + ks
        if rng.random() < 0.5:
            args += [pick(rng, [b"LIMIT", b"limit", b"COUNT"]), count(rng)]
        return maybe_cut(rng, args)
    if kind == 15:
        return scan(rng, b"SSCAN", k)
    name = pick(rng, [b"SADD", b"SREM", b"SMEMBERS", b"SISMEMBER", b"SMISMEMBER", b"SCARD",
                      b"SPOP", b"SRANDMEMBER", b"SMOVE", b"SINTER", b"SINTERCARD",
                      b"SINTERSTORE", b"SSCAN"])
    return [name] + [k] * rng.choice([0, 4])


# ---- sorted sets --------------------------------------------------------------------------

def score(rng):
    return pick(rng, BAD_SCORES) if rng.random() < 0.06 else pick(rng, SCORES)


def zmember(rng):
    return LONG if rng.random() < 0.02 else pick(rng, MEMBERS[:6] + [b"1"])


def limit(rng):
    if rng.random() < 0.1:
        return [b"LIMIT", count(rng)]  # the count missing
    return [pick(rng, [b"LIMIT", b"limit"]), pick(rng, [b"0", b"1", b"2", b"-1", b"5", b"x"]),
            count(rng)]


def zadd(rng, k):
    options = rng.sample([b"NX", b"XX", b"GT", b"LT", b"CH", b"INCR", b"nx", b"ch"],
                         rng.choice([0, 0, 0, 1, 1, 2]))
    pairs = rng.choice([1, 1, 2, 3]) if b"INCR" not in options else rng.choice([1, 1, 1, 2])
    args = [b"ZADD", k] + options
    for _ in range(pairs):
        args += [b"0" if k == LEX_KEY and rng.random() < 0.9 else score(rng), zmember(rng)]
    return maybe_cut(rng, args)


def zrange(rng, name, k):
    """ZRANGE or ZRANGESTORE with a random mode; bounds sometimes of the wrong mode."""
    mode = rng.choice([None, None, b"BYSCORE", b"BYLEX"])
    if mode == b"BYLEX" and rng.random() < 0.6:
        k = LEX_KEY
    bounds = {None: lambda: index(rng), b"BYSCORE": lambda: pick(rng, SCORE_BOUNDS),
              b"BYLEX": lambda: pick(rng, LEX_BOUNDS)}[rng.choice([mode] * 9 + [None])]
    args = [name] + ([key(rng, "z")] if name == b"ZRANGESTORE" else []) + [k, bounds(), bounds()]
    options = ([mode] if mode else []) + ([b"REV"] if rng.random() < 0.3 else [])
    if rng.random() < (0.5 if mode else 0.1):
        options += limit(rng)
    if name == b"ZRANGE" and rng.random() < 0.4 or rng.random() < 0.03:
        options.append(b"WITHSCORES")
    rng.shuffle(options) if rng.random() < 0.2 else None
    return args + options


def zset_setop(rng):
    name = pick(rng, [b"ZUNION", b"ZINTER", b"ZDIFF", b"ZUNIONSTORE", b"ZINTERSTORE",
                      b"ZDIFFSTORE"])
    # Sets are sources too (every member scores 1).
    ks = [key(rng, "s") if rng.random() < 0.15 else key(rng, "z") for _ in range(rng.randint(1, 3))]
    args = [name] + ([key(rng, "z")] if name.endswith(b"STORE") else []) + [numkeys(rng, ks)] + ks
    if rng.random() < 0.4:
        args.append(b"WEIGHTS")
        args += [pick(rng, [b"1", b"2", b"-1", b"0", b"0.5", b"inf", b"-inf", b"x", b"nan"])
                 for _ in range(len(ks) if rng.random() < 0.9 else len(ks) + 1)]
    if rng.random() < 0.4:
        args += [b"AGGREGATE", pick(rng, [b"SUM", b"MIN", b"MAX", b"max", b"avg"])]
    if not name.endswith(b"STORE") and rng.random() < 0.5 or rng.random() < 0.03:
        args.append(b"WITHSCORES")
    return maybe_cut(rng, args)


def zset_command(rng):
    k = key(rng, "z")
    kind = rng.randrange(34)
    if kind in (0, 1, 2, 3, 4):
        return zadd(rng, k)
    if kind == 5:
        return [b"ZINCRBY", k, pick(rng, FLOAT_INCREMENTS + SCORES), zmember(rng)]
    if kind == 6:
        return [b"ZREM", k] + [zmember(rng) for _ in range(rng.randint(1, 3))]
    if kind == 7:
        return [b"ZSCORE", k, zmember(rng)]
    if kind == 8:
        return [b"ZMSCORE", k] + [zmember(rng) for _ in range(rng.randint(1, 3))]
    if kind == 9:
        return [b"ZCARD", k]
    if kind == 10:
        return [b"ZCOUNT", k, pick(rng, SCORE_BOUNDS), pick(rng, SCORE_BOUNDS)]
    if kind == 11:
        return [b"ZLEXCOUNT", LEX_KEY if rng.random() < 0.6 else k, pick(rng, LEX_BOUNDS),
                pick(rng, LEX_BOUNDS)]
    if kind in (12, 13, 14):
        return zrange(rng, b"ZRANGE", k)
    if kind == 15:
        return zrange(rng, b"ZRANGESTORE", k)
    if kind == 16:
        return [b"ZREVRANGE", k, index(rng), index(rng)] + \
            ([b"WITHSCORES"] if rng.random() < 0.5 else [])
    if kind in (17, 18):
        name = pick(rng, [b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"])
        args = [name, k, pick(rng, SCORE_BOUNDS), pick(rng, SCORE_BOUNDS)]
        options = ([b"WITHSCORES"] if rng.random() < 0.5 else []) + \
            (limit(rng) if rng.random() < 0.4 else [])
        return args + (options[::-1] if rng.random() < 0.3 else options)
    if kind == 19:
        name = pick(rng, [b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"])
        k = LEX_KEY if rng.random() < 0.6 else k
        args = [name, k, pick(rng, LEX_BOUNDS), pick(rng, LEX_BOUNDS)]
        return args + (limit(rng) if rng.random() < 0.4 else []) + \
            ([b"WITHSCORES"] if rng.random() < 0.05 else [])
    if kind == 20:
        return [pick(rng, [b"ZRANK", b"ZREVRANK"]), k, zmember(rng)]
    if kind == 21:
        return [b"ZREMRANGEBYRANK", k, index(rng), index(rng)]
    if kind == 22:
        return [b"ZREMRANGEBYSCORE", k, pick(rng, SCORE_BOUNDS), pick(rng, SCORE_BOUNDS)]
    if kind == 23:
        return [b"ZREMRANGEBYLEX", LEX_KEY if rng.random() < 0.6 else k, pick(rng, LEX_BOUNDS),
                pick(rng, LEX_BOUNDS)]
    if kind == 24:
        return [pick(rng, [b"ZPOPMIN", b"ZPOPMAX"]), k] + ([count(rng)] if rng.random() < 0.6
                                                           else [])
    if kind == 25:
        ks = keys(rng, "z", 1, 3)
        args = [b"ZMPOP", numkeys(rng, ks)] + ks + \
            [pick(rng, [b"MIN", b"MAX", b"min", b"LEFT"] if rng.random() < 0.1 else [b"MIN", b"MAX"])]
        if rng.random() < 0.5:
            args += [b"COUNT", count(rng)]
        return maybe_cut(rng, args)
    if kind in (26, 27, 28):
        return zset_setop(rng)
    if kind == 29:
        ks = keys(rng, "z", 1, 3)
        args = [b"ZINTERCARD", numkeys(rng, ks)] + ks
        if rng.random() < 0.5:
            args += [pick(rng, [b"LIMIT", b"limit", b"COUNT"]), count(rng)]
        return maybe_cut(rng, args)
    if kind == 30:
        args = [b"ZRANDMEMBER", k]
        if rng.random() < 0.8:
            args.append(count(rng))
            if rng.random() < 0.5:
                args.append(pick(rng, [b"WITHSCORES", b"withscores", b"WITHVALUES"]))
        return args
    if kind == 31:
        return scan(rng, b"ZSCAN", k)
    name = pick(rng, [b"ZADD", b"ZINCRBY", b"ZREM", b"ZSCORE", b"ZMSCORE", b"ZCOUNT",
                      b"ZLEXCOUNT", b"ZRANGE", b"ZRANGESTORE", b"ZREVRANGE", b"ZRANGEBYSCORE",
                      b"ZRANGEBYLEX", b"ZRANK", b"ZREMRANGEBYRANK", b"ZPOPMIN", b"ZMPOP",
                      b"ZUNION", b"ZUNIONSTORE", b"ZINTERCARD", b"ZRANDMEMBER", b"ZSCAN",
                      b"ZCARD", b"ZDIFF"])
    return [name] + [k] * rng.choice([0, 1, 7])


# ---- the keyspace -------------------------------------------------------------------------

def scan(rng, name, k):
    """A whole scan from cursor 0 (the harness walks it), or a bad cursor or option."""
    head = [name, k] if name != b"SCAN" else [name]
    if rng.random() < 0.15:
        return head + [pick(rng, [b"x", b"-1", b"", b"18446744073709551616", b" 0"])]
    args = head + [b"0"]
    for _ in range(rng.randint(0, 2)):
        option = rng.choice([b"MATCH", b"COUNT", b"COUNT", b"TYPE", b"match", b"bogus"])
        if option == b"TYPE" and name != b"SCAN" and rng.random() < 0.8:
            option = b"COUNT"
        value = {b"COUNT": lambda: pick(rng, [b"10", b"1", b"3", b"0", b"-1", b"x"]),
                 b"TYPE": lambda: pick(rng, TYPES)}.get(option, lambda: pick(rng, PATTERNS))()
        args += [option, value]
    return maybe_cut(rng, args, 0.05)


def any_key(rng):
    return pick(rng, ALL_KEYS)


def keyspace_command(rng):
    k = any_key(rng)
    kind = rng.randrange(24)
    if kind in (0, 1):
        return [b"TYPE", k]
    if kind == 2:
        return [pick(rng, [b"DEL", b"UNLINK", b"EXISTS", b"TOUCH"])] + \
            [any_key(rng) for _ in range(rng.randint(1, 3))]
    if kind == 3:
        return [pick(rng, [b"EXPIRE", b"PEXPIRE"]), k,
                pick(rng, [b"%d" % rng.randint(1000, 100000), b"0", b"-5", b"x"])] + \
            ([pick(rng, [b"NX", b"XX", b"GT", b"LT", b"bogus"])] if rng.random() < 0.4 else [])
    if kind == 4:
        return [b"EXPIREAT", k, pick(rng, [b"%d" % FAR, b"1", b"%d" % (FAR + 500)])]
    if kind == 5:
        return [pick(rng, [b"TTL", b"PTTL", b"EXPIRETIME", b"PERSIST"]), k]
    if kind in (6, 7):
        return [pick(rng, [b"RENAME", b"RENAMENX"]), k, any_key(rng)]
    if kind in (8, 9):
        args = [b"COPY", k, any_key(rng)]
        if rng.random() < 0.3:
            args += [b"DB", pick(rng, [b"0", b"1", b"x", b"16"])]
        if rng.random() < 0.4:
            args.append(pick(rng, [b"REPLACE", b"replace", b"bogus"]))
        return args
    if kind == 10:
        return [b"MOVE", k, pick(rng, [b"1", b"1", b"0", b"x"])]
    if kind in (11, 12):
        return [b"OBJECT", b"ENCODING", k]
    if kind in (13, 14):
        return [b"DUMP", k]
    if kind == 15:
        return ("restore", k, any_key(rng), rng.choice([[], [b"REPLACE"], [b"REPLACE"]]))
    if kind in (16, 17):
        return scan(rng, b"SCAN", None)
    if kind == 18:
        return [b"SET", pick(rng, STRING_KEYS if rng.random() < 0.8 else ALL_KEYS),
                pick(rng, [b"v", b"10", b"abc"])]
    if kind == 19:
        return [pick(rng, [b"GET", b"APPEND", b"INCR", b"STRLEN"]), k] + \
            ([b"x"] if rng.random() < 0.3 else [])
    if kind == 20:
        return [b"DBSIZE"]
    if kind == 21:
        return [b"RANDOMKEY"]
    if kind == 22:
        return [pick(rng, [b"EXEC", b"DISCARD", b"UNWATCH"])]
    return [pick(rng, [b"TYPE", b"RENAME", b"COPY", b"MOVE", b"OBJECT", b"DUMP", b"EXPIRE",
                       b"TTL"])] + [k] * rng.choice([0, 4])


# ---- steps --------------------------------------------------------------------------------

FAMILIES = [hash_command] * 4 + [list_command] * 4 + [set_command] * 4 + \
    [zset_command] * 5 + [keyspace_command] * 3


def plain_command(rng):
    cmd = pick(rng, FAMILIES)(rng)
    return cmd


def queued_command(rng):
    """A command for a MULTI block: anything deterministic, now and then a queuing error."""
    if rng.random() < 0.04:
        return pick(rng, [[b"NOSUCHCMD", b"x"], [b"SADD"], [b"ZADD", b"z"], [b"MULTI"],
                          [b"WATCH", b"x"], [b"HSET", b"h", b"f"]])
    return deterministic_command(rng)


def deterministic_command(rng):
    for _ in range(100):
        cmd = plain_command(rng)
        # (a lex range is compared only over equal scores, checked before it is sent)
        if isinstance(cmd, list) and cmd[0].upper() not in NOT_IN_MULTI and lex_source(cmd) is None:
            return cmd
    return [b"PING"]


def transaction(rng):
    """WATCH (maybe) and a write touching a watched key (maybe: on this connection or the
    other one), MULTI, a few commands, EXEC or DISCARD."""
    block = []
    watched = []
    if rng.random() < 0.5:
        watched = [any_key(rng) for _ in range(rng.randint(1, 2))]
        block.append([b"WATCH"] + watched)
        roll = rng.random()
        if roll < 0.5:
            touch = deterministic_command(rng) if rng.random() < 0.5 else \
                [pick(rng, [b"SADD", b"SREM", b"RPUSH", b"HDEL", b"ZREM"]), watched[0], b"a"]
            block.append(("other", touch) if rng.random() < 0.4 else touch)
        elif roll < 0.6:
            block.append([b"UNWATCH"])
    block.append([b"MULTI"])
    block += [queued_command(rng) for _ in range(rng.randint(0, 6))]
    block.append([b"DISCARD"] if rng.random() < 0.1 else [b"EXEC"])
    return block


def step(rng):
    roll = rng.random()
    if roll < 0.05:
        return transaction(rng)
    if roll < 0.065:
        # another database: a command there, then back (MOVE and COPY DB put keys there)
        return [[b"SELECT", b"1"], plain_command(rng), [b"SELECT", b"0"]]
    if roll < 0.075:
        # a key built from nothing: its OBJECT ENCODING is Redis's for its content
        k = any_key(rng)
        # (two fields: Redis picks a hash's encoding from HSET's arguments, so a long value
        # overwritten in the same command would leave it a hashtable)
        make = pick(rng, [[b"HSET", k, b"f1", hvalue(rng), b"f2", hvalue(rng)],
                          [b"SADD", k] + members(rng, 1, 5),
                          [b"ZADD", k, score(rng), zmember(rng), score(rng), zmember(rng)],
                          [b"RPUSH", k, item(rng)],
                          [b"SUNIONSTORE", k] + keys(rng, "s", 1, 2),
                          [b"ZUNIONSTORE", k, b"2", key(rng, "z"), key(rng, "s")]])
        if rng.random() < 0.2:
            # past the small encodings' member counts (128 for a sorted set, 512 else)
            n = rng.choice([128, 129, 512, 513])
            make = pick(rng, [[b"ZADD", k] + [x for i in range(n) for x in (b"%d" % i, b"m%d" % i)],
                              [b"SADD", k] + [b"%d" % i for i in range(n)],
                              [b"HSET", k] + [x for i in range(n) for x in (b"f%d" % i, b"v")]])
        return [[b"DEL", k], make, [b"OBJECT", b"ENCODING", k]]
    if roll < 0.0765:
        return [[pick(rng, [b"FLUSHDB", b"FLUSHALL"])]]
    return [plain_command(rng)]
