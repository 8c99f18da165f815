"""The sorted-set family against the real binary: targeted scripts whose every reply is
compared with redis-server's (every command, option and error), a seeded differential run
in RESP2 and RESP3 over keys on both shards (with WRONGTYPE cases against string keys), the
behaviours that have no single Redis answer (ZRANDMEMBER, ZSCAN's cursor), and a restart."""

import os
import random
import time

import pytest

from conftest import Raw, compare_sequences, encode, parse
from key_shards import key_shard, keys_on_each_shard

SHARDS = 2
ZKEYS = keys_on_each_shard(b"z", SHARDS, 3)
STRING_KEYS = keys_on_each_shard(b"s", SHARDS, 1)
KEYS = ZKEYS + STRING_KEYS + [b"{t}a", b"{t}b"]
MEMBERS = [b"a", b"b", b"c", b"d", b"e", b"f", b"", b"\x00\xff", b"aa", b"ab", b"b\x00"]
SCORES = [b"0", b"1", b"2", b"-1", b"1.5", b"0.1", b"1e300", b"-1e300", b"inf", b"-inf",
          b"+inf", b"-0", b"3", b"10", b"2.5e-3", b"1e-320", b"0x10", b"nan", b"abc", b"",
          b" 1", b"1e400"]
BOUNDS = [b"-inf", b"+inf", b"inf", b"0", b"1", b"(1", b"2", b"(2", b"-1", b"(-inf", b"(inf",
          b"1.5", b"(0", b"x", b"(", b"", b"10", b"nan"]
LEX = [b"-", b"+", b"[a", b"(a", b"[b", b"(b", b"[c", b"(aa", b"[", b"(", b"a", b"[\x00",
       b"+x", b"[f"]



def run_script(cascade_port, redis_port, script, protocol=2):
    clients = [Raw(cascade_port), Raw(redis_port)]
    try:
        for c in clients:
            c.call(f"HELLO {protocol}")
            c.call("FLUSHALL")
        for command in script:
            args = command if isinstance(command, list) else command.split(b" ")
            replies = [c.call(args) for c in clients]
            assert replies[0] == replies[1], (
                f"RESP{protocol} {command!r}\ncascade: {replies[0]!r}\nredis:   {replies[1]!r}")
    finally:
        for c in clients:
            c.close()


# Each script runs on fresh databases of both servers, in RESP2 and RESP3.
SCRIPTS = [
    # ZADD options, conflicts and errors; ZINCRBY; scores as Redis formats them.
    [b"ZADD z 1 a 2 b 3 c", b"ZADD z NX 5 a 4 d", b"ZADD z XX 5 a 4 e", b"ZADD z XX CH 6 a",
     b"ZADD z CH 6 a 7 b 1 f", b"ZADD z GT 1 a", b"ZADD z GT CH 10 a", b"ZADD z LT 20 a",
     b"ZADD z LT CH 0 a", b"ZADD z XX GT 1 b 100 c", b"ZADD z NX XX 1 a", b"ZADD z GT LT 1 a",
     b"ZADD z GT NX 1 a", b"ZADD z LT NX 1 a", b"ZADD z INCR 1 a 2 b", b"ZADD z 1", b"ZADD z",
     b"ZADD z 1 a 2", b"ZADD z x a", b"ZADD z nan a", b"ZADD z 1 a x b", b"ZADD z FOO 1 a",
     b"ZADD z INCR 5 a", b"ZADD z NX INCR 5 a", b"ZADD z XX INCR 5 nosuch",
     b"ZADD z GT INCR -1 a", b"ZADD z LT INCR -1 a", b"ZADD z INCR inf a",
     b"ZADD z INCR -inf a", b"ZINCRBY z 1 newm", b"ZINCRBY z x a", b"ZINCRBY z nan a",
     b"ZADD n XX 1 a", b"EXISTS n", b"ZADD n XX INCR 1 a", b"ZADD n NX INCR -0 a",
     b"ZSCORE n a", b"ZADD n INCR -0 q", b"ZSCORE n q",
     b"ZRANGE z 0 -1 WITHSCORES", b"ZCARD z", b"ZCARD nokey"],
    [b"ZADD z 0.1 a 1e300 b -0 c inf d -inf e 1.5 f 123456789012345678 g 1e-320 h 0x10 i",
     b"ZSCORE z a", b"ZSCORE z b", b"ZSCORE z c", b"ZSCORE z d", b"ZSCORE z e", b"ZSCORE z g",
     b"ZSCORE z h", b"ZSCORE z i", b"ZSCORE z nosuch", b"ZSCORE nokey a",
     b"ZMSCORE z a b nosuch", b"ZMSCORE nokey a b", b"ZRANGE z 0 -1 WITHSCORES",
     b"ZINCRBY z 0.2 a", b"ZINCRBY z 1 d", b"ZINCRBY z -inf d", b"ZSCORE z d",
     b"ZADD z 1e400 x", b"ZADD z 1e-400 x", b"ZADD z 1e-310 x", b"ZSCORE z x"],
    # ZREM, ZCARD, emptied keys vanish.
    [b"ZADD z 1 a 2 b 3 c", b"ZREM z a nosuch", b"ZREM z nosuch", b"ZREM nokey a",
     b"ZREM z b c", b"EXISTS z", b"TYPE z", b"ZADD z 1 a", b"TYPE z"],
    # ZRANGE by rank, score and member, with REV, LIMIT, WITHSCORES and their errors.
    [b"ZADD z 1 a 2 b 3 c 4 d 5 e 5 f 5 g", b"ZRANGE z 0 -1", b"ZRANGE z 0 -1 WITHSCORES",
     b"ZRANGE z 2 4", b"ZRANGE z -3 -1", b"ZRANGE z -100 100", b"ZRANGE z 5 2",
     b"ZRANGE z 7 10", b"ZRANGE z 0 0 REV", b"ZRANGE z 1 3 REV WITHSCORES",
     b"ZRANGE z 1 3 LIMIT 0 1", b"ZRANGE z 1 3 LIMIT 0 -1", b"ZRANGE z x 3",
     b"ZRANGE z 0 3 FOO", b"ZRANGE z 0 -1 BYSCORE", b"ZRANGE z (1 5 BYSCORE",
     b"ZRANGE z 1 (5 BYSCORE WITHSCORES", b"ZRANGE z 5 1 BYSCORE REV",
     b"ZRANGE z (5 (1 BYSCORE REV", b"ZRANGE z -inf +inf BYSCORE LIMIT 2 3",
     b"ZRANGE z +inf -inf BYSCORE REV LIMIT 1 2 WITHSCORES",
     b"ZRANGE z -inf +inf BYSCORE LIMIT -1 2", b"ZRANGE z -inf +inf BYSCORE LIMIT 0 0",
     b"ZRANGE z -inf +inf BYSCORE LIMIT 5 -1", b"ZRANGE z -inf +inf BYSCORE LIMIT 100 1",
     b"ZRANGE z x 1 BYSCORE", b"ZRANGE z 1 nan BYSCORE", b"ZRANGE z - + BYLEX",
     b"ZRANGE z [b (g BYLEX", b"ZRANGE z - + BYLEX WITHSCORES", b"ZRANGE z a b BYLEX",
     b"ZRANGE z 0 1 BYSCORE BYLEX", b"ZRANGE z 0 1 REV REV", b"ZRANGE z 0 1 LIMIT 1",
     b"ZRANGE z 0 1 LIMIT x 1", b"ZRANGE z 0 1 BYSCORE LIMIT 0 x", b"ZRANGE nokey 0 -1",
     b"ZRANGE nokey 0 1 BYSCORE LIMIT 0 1", b"ZREVRANGE z 0 2", b"ZREVRANGE z 0 -1 WITHSCORES",
     b"ZREVRANGE z 0 1 REV", b"ZREVRANGE z 0 1 BYSCORE", b"ZRANGEBYSCORE z 2 4",
     b"ZRANGEBYSCORE z (2 (5 WITHSCORES", b"ZRANGEBYSCORE z -inf inf LIMIT 1 2",
     b"ZRANGEBYSCORE z 1 2 REV", b"ZRANGEBYSCORE z 1 2 BYSCORE", b"ZREVRANGEBYSCORE z 4 2",
     b"ZREVRANGEBYSCORE z +inf -inf LIMIT 1 3 WITHSCORES", b"ZREVRANGEBYSCORE z (5 (1",
     b"ZRANGEBYSCORE z 5 5", b"ZRANGEBYSCORE z (5 5", b"ZRANGEBYSCORE z 3 1",
     b"ZRANGEBYSCORE z ( 3", b"ZRANGEBYSCORE z  3", b"ZRANGEBYSCORE z 1e400 3"],
    # By member: equal scores (a seek) and mixed scores (Redis's walk).
    [b"ZADD e 0 a 0 b 0 c 0 d 0 e 0 aa 0 ab", b"ZRANGEBYLEX e - +", b"ZRANGEBYLEX e [b [d",
     b"ZRANGEBYLEX e (b (d", b"ZRANGEBYLEX e (a [ab", b"ZRANGEBYLEX e [aa +",
     b"ZRANGEBYLEX e - (c LIMIT 1 2", b"ZRANGEBYLEX e + -", b"ZRANGEBYLEX e [d [b",
     b"ZRANGEBYLEX e [b [b", b"ZRANGEBYLEX e (b [b", b"ZRANGEBYLEX e - -",
     b"ZRANGEBYLEX e + +", b"ZRANGEBYLEX e [zz +", b"ZRANGEBYLEX e - [0",
     b"ZREVRANGEBYLEX e + -", b"ZREVRANGEBYLEX e [d [b", b"ZREVRANGEBYLEX e (d (aa LIMIT 1 1",
     b"ZREVRANGEBYLEX e [b [d", b"ZRANGEBYLEX e a b", b"ZRANGEBYLEX e [a b",
     b"ZRANGEBYLEX e [a [b WITHSCORES", b"ZLEXCOUNT e - +", b"ZLEXCOUNT e [b (d",
     b"ZLEXCOUNT e x +", b"ZLEXCOUNT nokey - +", b"ZRANGE e (b [d BYLEX REV",
     b"ZRANGE e [d (b BYLEX REV", b"ZADD m 1 b 2 a 3 d 4 c 5 a1", b"ZRANGEBYLEX m - +",
     b"ZRANGEBYLEX m [b +", b"ZRANGEBYLEX m [a [c", b"ZRANGEBYLEX m (a +",
     b"ZRANGEBYLEX m [c +", b"ZRANGEBYLEX m - [a", b"ZRANGEBYLEX m [a [b LIMIT 1 5",
     b"ZRANGEBYLEX m [a [z LIMIT 1 5", b"ZREVRANGEBYLEX m + -", b"ZREVRANGEBYLEX m [c [a",
     b"ZREVRANGEBYLEX m [b -", b"ZREVRANGEBYLEX m (d (a LIMIT 1 2", b"ZLEXCOUNT m [a [c",
     b"ZLEXCOUNT m [b +", b"ZREMRANGEBYLEX m [b [c", b"ZRANGE m 0 -1 WITHSCORES",
     b"ZREMRANGEBYLEX e (a [c", b"ZRANGE e 0 -1", b"ZREMRANGEBYLEX e x y",
     b"ZREMRANGEBYLEX e - +", b"EXISTS e", b"ZREMRANGEBYLEX nokey - +"],
    # ZCOUNT, ZRANK, ZREVRANK, ZREMRANGEBYRANK, ZREMRANGEBYSCORE.
    [b"ZADD z 1 a 2 b 3 c 4 d 5 e 5 f -inf g inf h", b"ZCOUNT z -inf +inf", b"ZCOUNT z (1 5",
     b"ZCOUNT z 5 5", b"ZCOUNT z (5 5", b"ZCOUNT z 6 1", b"ZCOUNT z x 1", b"ZCOUNT nokey 0 1",
     b"ZCOUNT z (-inf (inf", b"ZRANK z a", b"ZRANK z g", b"ZRANK z h", b"ZRANK z f",
     b"ZRANK z e", b"ZRANK z nosuch", b"ZRANK nokey a", b"ZREVRANK z a", b"ZREVRANK z h",
     b"ZREVRANK z e", b"ZREVRANK z nosuch", b"ZREMRANGEBYRANK z 0 0", b"ZREMRANGEBYRANK z -1 -1",
     b"ZREMRANGEBYRANK z 10 20", b"ZREMRANGEBYRANK z 3 1", b"ZREMRANGEBYRANK z x 1",
     b"ZRANGE z 0 -1 WITHSCORES", b"ZREMRANGEBYSCORE z (2 4", b"ZREMRANGEBYSCORE z x 1",
     b"ZREMRANGEBYSCORE z 100 200", b"ZRANGE z 0 -1 WITHSCORES", b"ZREMRANGEBYRANK z 0 -1",
     b"EXISTS z", b"ZREMRANGEBYRANK nokey 0 -1", b"ZREMRANGEBYSCORE nokey 0 1"],
    # ZPOPMIN, ZPOPMAX, ZMPOP.
    [b"ZADD z 1 a 2 b 3 c 4 d 5 e", b"ZPOPMIN z", b"ZPOPMAX z", b"ZPOPMIN z 2",
     b"ZPOPMAX z 0", b"ZPOPMIN z -1", b"ZPOPMIN z x", b"ZPOPMIN z 1 2", b"ZPOPMAX z 10",
     b"EXISTS z", b"ZPOPMIN z", b"ZPOPMIN z 3", b"ZADD z 1 a 2 b 3 c", b"ZMPOP 1 z MIN",
     b"ZMPOP 2 nokey z MAX COUNT 5", b"ZMPOP 1 z MIN", b"ZMPOP 2 nokey z MIN",
     b"ZMPOP 0 z MIN", b"ZMPOP x z MIN", b"ZMPOP 2 z MIN", b"ZMPOP 1 z FOO",
     b"ZMPOP 1 z MIN COUNT 0", b"ZMPOP 1 z MIN COUNT x", b"ZMPOP 1 z MIN COUNT 1 COUNT 1",
     b"ZMPOP 1 z MIN FOO", b"ZMPOP 1 z", b"ZMPOP -1 z MIN"],
    # ZUNION ZINTER ZDIFF (+STORE), ZINTERCARD, WEIGHTS, AGGREGATE and their errors.
    [b"ZADD a 1 x 2 y 3 z", b"ZADD b 10 y 20 z 30 w", b"ZADD c 0.1 z", b"ZUNION 2 a b",
     b"ZUNION 2 a b WITHSCORES", b"ZUNION 3 a b c WITHSCORES WEIGHTS 1 2 3",
     b"ZUNION 2 a b AGGREGATE MIN WITHSCORES", b"ZUNION 2 a b AGGREGATE max WITHSCORES",
     b"ZINTER 2 a b WITHSCORES", b"ZINTER 3 a b c WITHSCORES AGGREGATE MAX",
     b"ZINTER 2 a b WEIGHTS 0 -1 WITHSCORES", b"ZDIFF 2 a b WITHSCORES", b"ZDIFF 2 b a",
     b"ZDIFF 1 a WITHSCORES", b"ZDIFF 2 a nokey WITHSCORES", b"ZINTER 2 a nokey",
     b"ZUNION 2 a nokey WITHSCORES", b"ZUNIONSTORE d 2 a b", b"ZRANGE d 0 -1 WITHSCORES",
     b"ZINTERSTORE d 2 a b WEIGHTS 2 0.5", b"ZRANGE d 0 -1 WITHSCORES",
     b"ZDIFFSTORE d 2 b a", b"ZRANGE d 0 -1 WITHSCORES", b"ZINTERSTORE d 2 a nokey",
     b"EXISTS d", b"ZUNIONSTORE a 2 a b", b"ZRANGE a 0 -1 WITHSCORES",
     b"ZINTERCARD 2 a b", b"ZINTERCARD 2 a b LIMIT 1", b"ZINTERCARD 2 a b LIMIT 0",
     b"ZINTERCARD 2 a b LIMIT -1", b"ZINTERCARD 2 a b LIMIT x", b"ZINTERCARD 0 a",
     b"ZINTERCARD 3 a b", b"ZINTERCARD 1 a WITHSCORES", b"ZUNION 0 a", b"ZUNION -1 a",
     b"ZUNION x a", b"ZUNION 3 a b", b"ZUNION 2 a b WEIGHTS 1", b"ZUNION 2 a b WEIGHTS 1 x",
     b"ZUNION 2 a b AGGREGATE foo", b"ZUNION 2 a b AGGREGATE", b"ZUNION 2 a b FOO",
     b"ZDIFF 2 a b WEIGHTS 1 1", b"ZDIFF 2 a b AGGREGATE SUM", b"ZUNIONSTORE d 2 a b WITHSCORES",
     b"ZUNIONSTORE d 0 a", b"ZDIFFSTORE d 0 a", b"ZINTER 0 a",
     b"ZADD i 1 p", b"ZADD j -1 p", b"ZUNION 2 i j WITHSCORES",
     b"ZADD k inf q", b"ZADD l -inf q", b"ZUNION 2 k l WITHSCORES", b"ZINTER 2 k l WITHSCORES",
     b"ZINTER 2 k l WEIGHTS 0 1 WITHSCORES", b"ZUNION 2 k l WEIGHTS 0 0 WITHSCORES",
     b"ZINTER 2 k l AGGREGATE MIN WEIGHTS 0 1 WITHSCORES",
     b"ZADD s1 0.1 m", b"ZADD s2 0.2 m 5 n", b"ZADD s3 0.3 m 5 n 6 o",
     b"ZUNION 3 s3 s2 s1 WITHSCORES", b"ZUNION 3 s1 s3 s2 WITHSCORES"],
    # ZRANGESTORE.
    [b"ZADD z 1 a 2 b 3 c 4 d", b"ZRANGESTORE d z 0 1", b"ZRANGE d 0 -1 WITHSCORES",
     b"ZRANGESTORE d z (1 +inf BYSCORE LIMIT 1 5", b"ZRANGE d 0 -1 WITHSCORES",
     b"ZRANGESTORE d z 3 2 BYSCORE REV", b"ZRANGE d 0 -1 WITHSCORES",
     b"ZRANGESTORE d z [b [c BYLEX", b"ZRANGE d 0 -1", b"ZRANGESTORE d z 0 -1 WITHSCORES",
     b"ZRANGESTORE d z 5 10", b"EXISTS d", b"ZRANGESTORE d nokey 0 -1", b"SET d x",
     b"ZRANGESTORE d z 0 0", b"TYPE d", b"SET d x", b"ZRANGESTORE d nokey 0 -1", b"EXISTS d",
     b"ZRANGESTORE d z x 1", b"ZRANGESTORE z z 1 2", b"ZRANGE z 0 -1 WITHSCORES"],
    # WRONGTYPE everywhere, and argument errors that Redis reports before the type.
    [b"SET s x", b"ZADD s 1 a", b"ZADD s x a", b"ZINCRBY s 1 a", b"ZREM s a", b"ZSCORE s a",
     b"ZMSCORE s a", b"ZCARD s", b"ZCOUNT s 0 1", b"ZCOUNT s x 1", b"ZLEXCOUNT s - +",
     b"ZRANGE s 0 -1", b"ZRANGE s x 1", b"ZRANGEBYSCORE s 0 1", b"ZRANGEBYLEX s - +",
     b"ZRANK s a", b"ZREVRANK s a", b"ZREMRANGEBYRANK s 0 1", b"ZREMRANGEBYSCORE s 0 1",
     b"ZREMRANGEBYLEX s - +", b"ZPOPMIN s", b"ZPOPMAX s 0", b"ZPOPMIN s -1",
     b"ZMPOP 1 s MIN", b"ZMPOP 2 nokey s MIN", b"ZADD z 1 a", b"ZMPOP 2 z s MIN",
     b"ZUNION 2 z s", b"ZUNION 2 z s FOO", b"ZINTERSTORE d 2 z s", b"ZDIFF 2 s z",
     b"ZINTERCARD 2 z s", b"ZRANGESTORE d s 0 -1", b"ZRANDMEMBER s", b"ZRANDMEMBER s 2",
     b"ZRANDMEMBER s 0", b"ZSCAN s 0", b"ZSCAN s x", b"ZSCAN s 0 COUNT 0", b"ZSCAN nokey 0",
     b"ZSCAN nokey 0 COUNT 0", b"ZSCAN z 0 COUNT 0", b"ZSCAN z 0 COUNT x", b"ZSCAN z 0 MATCH",
     b"ZUNIONSTORE s 1 z", b"TYPE s"],
    # ZRANDMEMBER's argument errors and its replies that do not depend on chance.
    # BZPOPMIN BZPOPMAX BZMPOP when they need not wait: arity, the timeout and BZMPOP's
    # argument errors in Redis's order, WRONGTYPE, empty keys inside MULTI/EXEC.
    [b"BZPOPMIN", b"BZPOPMIN k", b"BZPOPMAX k", b"BZPOPMIN k -1", b"BZPOPMIN k abc",
     b"BZPOPMAX k nan", b"BZMPOP", b"BZMPOP 1 1", b"BZMPOP 1 1 k", b"BZMPOP x 1 k MIN",
     b"BZMPOP 0.01 0 k MIN", b"BZMPOP -1 0 k MIN", b"BZMPOP -1 1 k foo", b"BZMPOP 0.01 x k MIN",
     b"BZMPOP 0.01 2 k MIN", b"BZMPOP 0.01 1 k MIN COUNT 0", b"BZMPOP 0.01 1 k MIN COUNT",
     b"BZMPOP 0.01 1 k MIN COUNT 1 COUNT 2", b"BZMPOP 0.01 1 k MIN foo",
     b"ZADD z 1 a 2 b 3 c 4 d 5 e 6 f 7 g", b"BZPOPMIN nokey z 0", b"BZPOPMAX z z 0",
     b"BZMPOP 0 2 nokey z MAX COUNT 2", b"BZMPOP 0 1 z min", b"BZMPOP 0 1 z MIN COUNT 9",
     b"EXISTS z", b"SET s x", b"BZPOPMIN nokey s 0", b"BZPOPMAX s 0", b"BZMPOP 0 2 nokey s MIN",
     b"BZPOPMIN nokey 0.01", b"BZMPOP 0.01 1 nokey MIN", b"ZADD z 1 a",
     b"MULTI", b"BZPOPMIN nokey 0", b"BZMPOP 0 1 nokey MAX", b"ZADD nokey 5 q 6 r",
     b"BZPOPMAX nokey 0", b"BZMPOP 0 1 nokey MIN", b"BZPOPMIN z 0", b"BZPOPMIN s 0", b"EXEC",
     b"MULTI", b"BZMPOP 0 1 z", b"EXEC", b"EXISTS z nokey"],
    [b"ZADD z 1 a 2 b 3 c", b"ZRANDMEMBER nokey", b"ZRANDMEMBER nokey 5", b"ZRANDMEMBER z 0",
     b"ZRANDMEMBER z 0 WITHSCORES", b"ZRANDMEMBER z x", b"ZRANDMEMBER z 1 WITHSCORES x",
     b"ZRANDMEMBER z 1 foo", b"ZRANDMEMBER z -9223372036854775808",
     b"ZRANDMEMBER z -9223372036854775807 WITHSCORES", b"ZRANDMEMBER z 9223372036854775807 WITHSCORES",
     b"ZADD one 7 m", b"ZRANDMEMBER one", b"ZRANDMEMBER one -3 WITHSCORES",
     b"ZRANDMEMBER one 3 WITHSCORES", b"ZSCAN z 0", b"ZSCAN z 0 MATCH a*", b"ZSCAN z 0 MATCH *"],
]


@pytest.mark.parametrize("protocol", [2, 3])
def test_scripts_match_redis(cascade, redis_clean, protocol):
    for script in SCRIPTS:
        run_script(cascade.port, redis_clean.port, script, protocol)


def test_keys_on_both_shards_combine(cascade, redis_clean):
    """Sources and destination on different shards: the transaction reads members where
    they live and writes the destination's members on its own shard."""
    a, b = keys_on_each_shard(b"src", SHARDS, 1)
    d0, d1 = keys_on_each_shard(b"dst", SHARDS, 1)
    assert key_shard(a, SHARDS) != key_shard(b, SHARDS)
    script = [[b"ZADD", a, b"1", b"x", b"2", b"y"], [b"ZADD", b, b"3", b"y", b"4", b"w"]]
    for d in (d0, d1):
        script += [[b"ZUNIONSTORE", d, b"2", a, b], [b"ZRANGE", d, b"0", b"-1", b"WITHSCORES"],
                   [b"ZINTERSTORE", d, b"2", a, b, b"WEIGHTS", b"2", b"3"],
                   [b"ZRANGE", d, b"0", b"-1", b"WITHSCORES"], [b"ZDIFFSTORE", d, b"2", b, a],
                   [b"ZRANGE", d, b"0", b"-1", b"WITHSCORES"],
                   [b"ZRANGESTORE", d, a, b"0", b"0"], [b"ZRANGE", d, b"0", b"-1", b"WITHSCORES"],
                   [b"ZMPOP", b"2", d, a, b"MAX", b"COUNT", b"5"], [b"EXISTS", d],
                   [b"ZMPOP", b"2", d, a, b"MIN"], [b"ZRANGE", a, b"0", b"-1"]]
    run_script(cascade.port, redis_clean.port, script, 3)


# ---- the seeded differential run ---------------------------------------------------------

def pick(rng, items):
    return rng.choice(items)


def score_range_args(rng):
    return [pick(rng, BOUNDS), pick(rng, BOUNDS)]


def limit_args(rng):
    if rng.random() < 0.6:
        return []
    return [b"LIMIT", str(rng.randint(-1, 4)).encode(), str(rng.randint(-1, 5)).encode()]


def random_write(rng, key):
    kind = rng.randrange(6)
    if kind < 3:
        options = [o for o in (b"NX", b"XX", b"GT", b"LT", b"CH") if rng.random() < 0.12]
        pairs = []
        for _ in range(rng.randint(1, 4)):
            pairs += [pick(rng, SCORES[:17]) if rng.random() < 0.95 else pick(rng, SCORES),
                      pick(rng, MEMBERS)]
        if rng.random() < 0.1:
            options.append(b"INCR")
            pairs = pairs[:2]
        return [b"ZADD", key] + options + pairs
    if kind == 3:
        return [b"ZINCRBY", key, pick(rng, SCORES[:17]), pick(rng, MEMBERS)]
    if kind == 4:
        return [b"ZREM", key] + [pick(rng, MEMBERS) for _ in range(rng.randint(1, 3))]
    name = pick(rng, [b"ZREMRANGEBYSCORE", b"ZREMRANGEBYLEX", b"ZREMRANGEBYRANK"])
    if name == b"ZREMRANGEBYSCORE":
        return [name, key] + score_range_args(rng)
    if name == b"ZREMRANGEBYLEX":
        return [name, key, pick(rng, LEX), pick(rng, LEX)]
    return [name, key, str(rng.randint(-6, 6)).encode(), str(rng.randint(-6, 6)).encode()]


def random_range(rng, key):
    kind = rng.randrange(7)
    withscores = [b"WITHSCORES"] if rng.random() < 0.5 else []
    if kind == 0:
        return [b"ZRANGE", key, str(rng.randint(-8, 8)).encode(),
                str(rng.randint(-8, 8)).encode()] + ([b"REV"] if rng.random() < 0.3 else []) + withscores
    if kind == 1:
        return [b"ZRANGE", key] + score_range_args(rng) + [b"BYSCORE"] + \
            ([b"REV"] if rng.random() < 0.4 else []) + limit_args(rng) + withscores
    if kind == 2:
        return [b"ZRANGE", key, pick(rng, LEX), pick(rng, LEX), b"BYLEX"] + \
            ([b"REV"] if rng.random() < 0.4 else []) + limit_args(rng)
    if kind == 3:
        name = pick(rng, [b"ZRANGEBYSCORE", b"ZREVRANGEBYSCORE"])
        return [name, key] + score_range_args(rng) + limit_args(rng) + withscores
    if kind == 4:
        name = pick(rng, [b"ZRANGEBYLEX", b"ZREVRANGEBYLEX"])
        return [name, key, pick(rng, LEX), pick(rng, LEX)] + limit_args(rng)
    if kind == 5:
        return [b"ZREVRANGE", key, str(rng.randint(-8, 8)).encode(),
                str(rng.randint(-8, 8)).encode()] + withscores
    name = pick(rng, [b"ZCOUNT", b"ZLEXCOUNT"])
    if name == b"ZCOUNT":
        return [name, key] + score_range_args(rng)
    return [name, key, pick(rng, LEX), pick(rng, LEX)]


def random_multi(rng):
    kind = rng.randrange(5)
    # Mostly sorted-set keys, so intersections and differences often have members.
    sources = [pick(rng, ZKEYS if rng.random() < 0.9 else KEYS) for _ in range(rng.randint(1, 3))]
    if kind == 0:
        name = pick(rng, [b"ZUNION", b"ZINTER", b"ZDIFF"])
        args = [name, str(len(sources)).encode()] + sources
        if name != b"ZDIFF" and rng.random() < 0.3:
            args += [b"WEIGHTS"] + [pick(rng, [b"1", b"2", b"-1", b"0", b"0.5", b"inf"])
                                    for _ in sources]
        if name != b"ZDIFF" and rng.random() < 0.3:
            args += [b"AGGREGATE", pick(rng, [b"SUM", b"MIN", b"MAX"])]
        return args + ([b"WITHSCORES"] if rng.random() < 0.5 else [])
    if kind == 1:
        name = pick(rng, [b"ZUNIONSTORE", b"ZINTERSTORE", b"ZDIFFSTORE"])
        args = [name, pick(rng, KEYS), str(len(sources)).encode()] + sources
        if name != b"ZDIFFSTORE" and rng.random() < 0.3:
            args += [b"AGGREGATE", pick(rng, [b"SUM", b"MIN", b"MAX"])]
        return args
    if kind == 2:
        return [b"ZINTERCARD", str(len(sources)).encode()] + sources + \
            ([b"LIMIT", str(rng.randint(0, 3)).encode()] if rng.random() < 0.4 else [])
    if kind == 3:
        return [b"ZRANGESTORE", pick(rng, KEYS), pick(rng, KEYS)] + score_range_args(rng) + \
            [b"BYSCORE"] + limit_args(rng)
    return [b"ZMPOP", str(len(sources)).encode()] + sources + [pick(rng, [b"MIN", b"MAX"])] + \
        ([b"COUNT", str(rng.randint(1, 3)).encode()] if rng.random() < 0.5 else [])


def random_command(rng):
    key = pick(rng, KEYS)
    kind = rng.randrange(20)
    if kind < 7:
        return random_write(rng, key)
    if kind < 12:
        return random_range(rng, key)
    if kind < 14:
        return random_multi(rng)
    if kind == 14:
        if rng.random() < 0.3:  # the blocking forms, with a timeout short enough to pass
            sources = [pick(rng, KEYS) for _ in range(rng.randint(1, 3))]
            if rng.random() < 0.5:
                return [pick(rng, [b"BZPOPMIN", b"BZPOPMAX"])] + sources + [b"0.01"]
            return [b"BZMPOP", b"0.01", str(len(sources)).encode()] + sources + \
                [pick(rng, [b"MIN", b"MAX"])] + \
                ([b"COUNT", str(rng.randint(1, 3)).encode()] if rng.random() < 0.5 else [])
        return [pick(rng, [b"ZPOPMIN", b"ZPOPMAX"]), key] + \
            ([str(rng.randint(0, 3)).encode()] if rng.random() < 0.5 else [])
    if kind == 15:
        return [pick(rng, [b"ZRANK", b"ZREVRANK"]), key, pick(rng, MEMBERS)]
    if kind == 16:
        return [b"ZMSCORE", key] + [pick(rng, MEMBERS) for _ in range(rng.randint(1, 3))]
    if kind == 17:
        return [b"SET", pick(rng, STRING_KEYS), b"v"] if rng.random() < 0.5 else [b"DEL", key]
    if kind == 18:
        return [pick(rng, [b"ZSCORE", b"ZCARD", b"TYPE"]), key] + \
            ([pick(rng, MEMBERS)] if rng.random() < 0.5 else [])
    return [b"ZRANGE", key, b"0", b"-1", b"WITHSCORES"]


SEEDS = [int(os.environ["CASCADE_ZSET_SEED"])] if "CASCADE_ZSET_SEED" in os.environ else [11, 22]


@pytest.mark.parametrize("seed", SEEDS)
def test_random_zset_commands_match_redis(start_cascade, redis_clean, seed):
    server = start_cascade("--appendfsync", "no")
    for protocol in (2, 3):
        Raw(server.port).call("FLUSHALL")
        compare_sequences(server.port, redis_clean.port, seed * 10 + protocol, 1500, protocol,
                          random_command, reset="FLUSHALL")


# ---- what has no single Redis answer -----------------------------------------------------

def call(client, *args):
    return parse(client.call(list(args)))


def test_zrandmember_picks_members(cascade):
    c = Raw(cascade.port)
    members = [b"m%d" % i for i in range(50)]
    pairs = []
    for i, m in enumerate(members):
        pairs += [str(i).encode(), m]
    call(c, b"ZADD", b"z", *pairs)
    one = call(c, b"ZRANDMEMBER", b"z")
    assert one in members
    distinct = call(c, b"ZRANDMEMBER", b"z", b"20")
    assert len(distinct) == 20 and len(set(distinct)) == 20 and set(distinct) <= set(members)
    assert sorted(call(c, b"ZRANDMEMBER", b"z", b"80")) == sorted(members)
    repeated = call(c, b"ZRANDMEMBER", b"z", b"-200")
    assert len(repeated) == 200 and set(repeated) <= set(members)
    assert len(set(repeated)) > 20  # 200 uniform picks of 50 hit far more than 20 (p ~ 1e-30)
    assert call(c, b"ZRANDMEMBER", b"z", b"-9223372036854775807").args == (
        "ERR value is out of range",)  # not 2^63 picks built in memory
    assert len(call(c, b"ZRANDMEMBER", b"z", b"9223372036854775807")) == 50
    flat = call(c, b"ZRANDMEMBER", b"z", b"-10", b"WITHSCORES")
    for member, score in zip(flat[::2], flat[1::2]):
        assert int(score) == members.index(member)
    c.call("HELLO 3")
    pairs3 = c.call([b"ZRANDMEMBER", b"z", b"5", b"WITHSCORES"])  # [member, double] pairs
    assert pairs3.startswith(b"*5\r\n*2\r\n$") and pairs3.count(b"*2\r\n$") == 5
    assert pairs3.count(b"\r\n,") == 5
    c.close()


def test_zscan_returns_every_member_once_with_scores(cascade):
    c = Raw(cascade.port)
    expected = {}
    pairs = []
    for i in range(300):
        member = b"member:%03d" % i
        expected[member] = str(i / 4).encode() if i % 4 else str(i // 4).encode()
        pairs += [expected[member], member]
    call(c, b"ZADD", b"big", *pairs)
    seen = {}
    cursor = b"0"
    rounds = 0
    while True:
        cursor, items = call(c, b"ZSCAN", b"big", cursor, b"COUNT", b"17")
        for member, score in zip(items[::2], items[1::2]):
            assert member not in seen
            seen[member] = score
        rounds += 1
        assert rounds < 100
        if cursor == b"0":
            break
    assert seen == expected
    assert rounds >= 300 // 17
    cursor, items = call(c, b"ZSCAN", b"big", b"0", b"MATCH", b"member:01*", b"COUNT", b"1000")
    assert cursor == b"0" and sorted(items[::2]) == [b"member:%03d" % i for i in range(10, 20)]
    c.close()


def test_rank_and_ranges_on_a_larger_set(cascade, redis_clean):
    """Past Redis's small encoding (128 members): ranks from either end, LIMIT offsets."""
    script = []
    rng = random.Random(7)
    pairs = []
    for i in range(400):
        pairs += [str(rng.choice([1, 2, 3, 2.5, -1, 1e9])).encode(), b"m%d" % i]
    script.append([b"ZADD", b"big"] + pairs)
    for i in range(0, 400, 37):
        script += [[b"ZRANK", b"big", b"m%d" % i], [b"ZREVRANK", b"big", b"m%d" % i]]
    script += [[b"ZRANGE", b"big", b"100", b"110", b"WITHSCORES"],
               [b"ZRANGE", b"big", b"-120", b"-100"], [b"ZRANGE", b"big", b"5", b"9", b"REV"],
               [b"ZRANGE", b"big", b"1", b"3", b"BYSCORE", b"LIMIT", b"50", b"10"],
               [b"ZRANGE", b"big", b"3", b"1", b"BYSCORE", b"REV", b"LIMIT", b"50", b"10"],
               [b"ZCOUNT", b"big", b"(1", b"3"], [b"ZREMRANGEBYRANK", b"big", b"10", b"200"],
               [b"ZRANGE", b"big", b"0", b"-1", b"WITHSCORES"], [b"ZPOPMAX", b"big", b"3"]]
    run_script(cascade.port, redis_clean.port, script, 2)


def test_sorted_sets_survive_a_restart(start_cascade):
    server = start_cascade()
    c = Raw(server.port)
    keys = keys_on_each_shard(b"persist", SHARDS, 1)
    for key in keys:
        call(c, b"ZADD", key, b"1", b"a", b"0.1", b"b", b"-inf", b"c", b"1e300", b"d")
        call(c, b"ZREM", key, b"a")
    call(c, b"ZUNIONSTORE", b"union", b"2", *keys)
    before = [call(c, b"ZRANGE", k, b"0", b"-1", b"WITHSCORES") for k in keys + [b"union"]]
    c.close()
    server.stop()
    server = start_cascade()
    c = Raw(server.port)
    after = [call(c, b"ZRANGE", k, b"0", b"-1", b"WITHSCORES") for k in keys + [b"union"]]
    assert after == before
    assert before[0] == [b"c", b"-inf", b"b", b"0.10000000000000001", b"d",
                         b"1.0000000000000001e+300"]
    assert call(c, b"ZSCORE", b"union", b"b") == b"0.20000000000000001"
    assert call(c, b"ZRANGEBYSCORE", keys[1], b"(0", b"+inf") == [b"b", b"d"]
    c.close()


def test_sets_are_sources_with_score_one(cascade, redis_clean):
    """Redis takes sets wherever a set operation takes sorted sets."""
    a, b = keys_on_each_shard(b"set", SHARDS, 1)
    script = [[b"SADD", a, b"x", b"y", b"z"], [b"ZADD", b, b"5", b"y", b"7", b"w"],
              [b"ZUNION", b"2", a, b, b"WITHSCORES"], [b"ZINTER", b"2", b, a, b"WITHSCORES"],
              [b"ZDIFF", b"2", a, b, b"WITHSCORES"], [b"ZINTERCARD", b"2", a, b],
              [b"ZUNIONSTORE", b"dst", b"2", a, b, b"WEIGHTS", b"3", b"1"],
              [b"ZRANGE", b"dst", b"0", b"-1", b"WITHSCORES"], [b"ZRANGE", a, b"0", b"-1"]]
    run_script(cascade.port, redis_clean.port, script, 2)


def test_command_info_matches_redis(cascade, redis_server):
    names = ("zadd zincrby zrem zscore zmscore zcard zpopmin zpopmax zrandmember zscan zrange "
             "zrevrange zrangebyscore zrevrangebyscore zrangebylex zrevrangebylex zcount "
             "zlexcount zrank zrevrank zremrangebyrank zremrangebyscore zremrangebylex "
             "zrangestore bzpopmin bzpopmax bzmpop")
    replies = [Raw(port).call("COMMAND INFO " + names) for port in (cascade.port, redis_server.port)]
    assert replies[0] == replies[1]


# ---- blocking pops: BZPOPMIN BZPOPMAX BZMPOP ---------------------------------------------

def blocked_clients(client):
    info = parse(client.call(b"INFO clients")).decode()
    return int(info.split("blocked_clients:")[1].split("\r\n")[0])


def wait_blocked(client, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if blocked_clients(client) == count:
            return
        time.sleep(0.01)
    raise AssertionError(f"blocked_clients never reached {count}")


def client_id(client):
    return int(client.call(b"CLIENT ID")[1:-2])


def test_blocked_clients_are_served_in_the_order_they_blocked(cascade):
    control = Raw(cascade.port)
    key = b"zfifo"
    commands = [[b"BZPOPMIN", key, b"0"], [b"BZMPOP", b"0", b"1", key, b"MAX", b"COUNT", b"2"],
                [b"BZPOPMAX", b"other", key, b"0"]]
    clients = []
    for i, command in enumerate(commands):
        client = Raw(cascade.port, timeout=10)
        client.send(encode(command))
        wait_blocked(control, i + 1)
        clients.append(client)
    # One member at a time: each ZADD serves exactly the next client in line.
    assert control.call([b"ZADD", key, b"1", b"a"]) == b":1\r\n"
    assert parse(clients[0].reply()) == [key, b"a", b"1"]
    assert control.call([b"ZADD", key, b"2", b"b", b"3", b"c", b"4", b"d"]) == b":3\r\n"
    assert parse(clients[1].reply()) == [key, [[b"d", b"4"], [b"c", b"3"]]]
    assert parse(clients[2].reply()) == [key, b"b", b"2"]
    assert control.call([b"EXISTS", key]) == b":0\r\n"
    assert blocked_clients(control) == 0
    for client in clients:
        client.close()


def test_a_timeout_returns_on_time_with_a_null_array(cascade):
    client = Raw(cascade.port)
    for command in ([b"BZPOPMIN", b"nothing", b"0.1"], [b"BZPOPMAX", b"nothing", b"0.15"],
                    [b"BZMPOP", b"0.1", b"2", b"nothing", b"none", b"MIN"]):
        start = time.monotonic()
        assert client.call(command) == b"*-1\r\n"
        assert float(command[-1] if command[0] != b"BZMPOP" else command[1]) <= \
            time.monotonic() - start < 0.6
    client.call(b"HELLO 3")
    start = time.monotonic()
    assert client.call([b"BZPOPMIN", b"nothing", b"0.2"]) == b"_\r\n"
    assert 0.2 <= time.monotonic() - start < 0.7


def test_a_zero_timeout_waits_until_served(cascade):
    control = Raw(cascade.port)
    client = Raw(cascade.port, timeout=10)
    client.call(b"HELLO 3")
    client.send(encode([b"BZPOPMAX", b"forever", b"0"]))
    wait_blocked(control, 1)
    time.sleep(0.3)
    assert blocked_clients(control) == 1
    control.call([b"ZADD", b"forever", b"2.5", b"m"])
    assert client.reply() == b"*3\r\n$7\r\nforever\r\n$1\r\nm\r\n,2.5\r\n"


def test_zadds_from_other_connections_wake_clients_blocked_on_either_shard(cascade):
    control = Raw(cascade.port)
    keys = keys_on_each_shard(b"zw", SHARDS)
    waiters = []
    for i in range(6):
        client = Raw(cascade.port, timeout=10)
        client.send(encode([b"BZPOPMIN", keys[i % 2], b"0"]))
        waiters.append((client, keys[i % 2]))
    wait_blocked(control, 6)
    for key in keys:
        pusher = Raw(cascade.port)
        assert pusher.call([b"ZADD", key, b"1", b"x", b"2", b"y", b"3", b"z"]) == b":3\r\n"
        pusher.close()
    got = {}
    for client, key in waiters:
        reply = parse(client.reply())
        assert reply[0] == key
        got.setdefault(key, []).append(reply[1])
        client.close()
    for key in keys:
        assert sorted(got[key]) == [b"x", b"y", b"z"]
    assert control.call([b"EXISTS"] + keys) == b":0\r\n"


# Each write creates `dst` (on the other shard than its sources) from a zset `src`.
STORE_WRITES = [
    [b"ZINCRBY", b"DST", b"5", b"m"],
    [b"ZUNIONSTORE", b"DST", b"1", b"SRC"],
    [b"ZINTERSTORE", b"DST", b"1", b"SRC"],
    [b"ZDIFFSTORE", b"DST", b"1", b"SRC"],
    [b"ZRANGESTORE", b"DST", b"SRC", b"0", b"-1"],
]


@pytest.mark.parametrize("write", STORE_WRITES, ids=lambda w: w[0].decode())
def test_every_zset_write_that_creates_a_key_wakes_its_waiters(cascade, write):
    src, dst = keys_on_each_shard(b"st", SHARDS)
    control = Raw(cascade.port)
    control.call([b"ZADD", src, b"7", b"m"])
    client = Raw(cascade.port, timeout=10)
    client.send(encode([b"BZMPOP", b"0", b"2", b"nokey", dst, b"MIN"]))
    wait_blocked(control, 1)
    command = [dst if a == b"DST" else src if a == b"SRC" else a for a in write]
    assert not control.call(command).startswith(b"-")
    score = b"5" if write[0] == b"ZINCRBY" else b"7"
    assert parse(client.reply()) == [dst, [[b"m", score]]]
    assert control.call([b"EXISTS", dst]) == b":0\r\n"


def test_an_exec_wakes_clients_blocked_on_its_keys(cascade):
    keys = keys_on_each_shard(b"ze", SHARDS)
    control = Raw(cascade.port)
    clients = []
    for key in keys:
        client = Raw(cascade.port, timeout=10)
        client.send(encode([b"BZPOPMAX", key, b"0"]))
        clients.append(client)
    wait_blocked(control, 2)
    control.call(b"MULTI")
    for key in keys:
        control.call([b"ZADD", key, b"1", b"a", b"2", b"b"])
    assert parse(control.call(b"EXEC")) == [2, 2]
    for key, client in zip(keys, clients):
        assert parse(client.reply()) == [key, b"b", b"2"]
    # An EXEC that adds and pops the member itself leaves nothing to wake anyone for.
    client = clients[0]
    client.send(encode([b"BZPOPMIN", b"fresh", b"0.3"]))
    wait_blocked(control, 1)
    control.call(b"MULTI")
    control.call([b"ZADD", b"fresh", b"9", b"q"])
    control.call([b"ZPOPMIN", b"fresh"])
    assert parse(control.call(b"EXEC")) == [1, [b"q", b"9"]]
    assert client.reply() == b"*-1\r\n"


def test_a_client_that_disconnects_while_blocked_consumes_nothing(cascade):
    control = Raw(cascade.port)
    for key in keys_on_each_shard(b"zd", SHARDS):
        client = Raw(cascade.port)
        client.send(encode([b"BZPOPMIN", key, b"0"]))
        wait_blocked(control, 1)
        client.close()
        wait_blocked(control, 0)
        assert control.call([b"ZADD", key, b"1", b"kept"]) == b":1\r\n"
        time.sleep(0.05)
        assert control.call([b"ZCARD", key]) == b":1\r\n"


def test_client_unblock_ends_a_zset_wait_with_a_timeout_reply_or_an_error(cascade):
    control = Raw(cascade.port)
    blocked = Raw(cascade.port)
    cid = str(client_id(blocked)).encode()
    blocked.send(encode([b"BZPOPMIN", b"u", b"0"]))
    wait_blocked(control, 1)
    listing = parse(control.call([b"CLIENT", b"LIST", b"ID", cid]))
    assert b" flags=b " in listing and b" cmd=bzpopmin " in listing
    assert control.call([b"CLIENT", b"UNBLOCK", cid]) == b":1\r\n"
    assert blocked.reply() == b"*-1\r\n"
    blocked.send(encode([b"BZMPOP", b"0", b"1", b"u", b"MAX"]))
    wait_blocked(control, 1)
    assert control.call([b"CLIENT", b"UNBLOCK", cid, b"ERROR"]) == b":1\r\n"
    assert blocked.reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    assert blocked_clients(control) == 0
    control.call([b"ZADD", b"u", b"1", b"one"])
    assert parse(blocked.call([b"ZPOPMIN", b"u"])) == [b"one", b"1"]


def wrong_type_while_blocked(port):
    """What a BZPOPMIN client and a BLPOP client waiting on one key see while the key is a
    list, then a sorted set: the observations, to compare with redis-server's."""
    control = Raw(port)
    control.call(b"FLUSHALL")
    zwaiter, lwaiter = Raw(port, timeout=10), Raw(port, timeout=10)
    seen = []
    zwaiter.send(encode([b"BZPOPMIN", b"wt", b"0"]))
    wait_blocked(control, 1)
    lwaiter.send(encode([b"BLPOP", b"wt", b"0"]))
    wait_blocked(control, 2)
    # The list client is served though it blocked second; the zset client keeps waiting
    # with a list under its key (no WRONGTYPE once blocked).
    seen.append(control.call([b"RPUSH", b"wt", b"l1", b"l2"]))
    seen.append(lwaiter.reply())
    time.sleep(0.1)
    seen.append(blocked_clients(control))
    seen.append(control.call([b"ZADD", b"wt", b"1", b"m"]))
    seen.append(control.call([b"DEL", b"wt"]))
    lwaiter.send(encode([b"BLPOP", b"wt", b"0"]))
    wait_blocked(control, 2)
    seen.append(control.call([b"ZADD", b"wt", b"1", b"m"]))
    seen.append(zwaiter.reply())
    # Now the list client waits on a key that becomes a sorted set.
    seen.append(control.call([b"ZADD", b"wt", b"2", b"n"]))
    time.sleep(0.1)
    seen.append(blocked_clients(control))
    seen.append(control.call([b"DEL", b"wt"]))
    seen.append(control.call([b"RPUSH", b"wt", b"l3"]))
    seen.append(lwaiter.reply())
    for c in (control, zwaiter, lwaiter):
        c.close()
    return seen


def test_a_key_of_the_other_type_does_not_end_a_wait_as_in_redis(cascade, redis_server):
    assert wrong_type_while_blocked(cascade.port) == wrong_type_while_blocked(redis_server.port)


# The commands that find their keys through a key count: Redis describes them with "keynum"
# key specs, and COMMAND GETKEYS reads their keys through them.
NUMKEYS_COMMANDS = ("lmpop blmpop zmpop bzmpop sintercard zintercard zunion zinter zdiff "
                    "zunionstore zinterstore zdiffstore")


@pytest.mark.parametrize("protocol", [2, 3])
def test_numkeys_commands_describe_their_keys_as_redis_does(cascade, redis_server, protocol):
    replies = []
    for port in (cascade.port, redis_server.port):
        client = Raw(port)
        client.call(f"HELLO {protocol}")
        replies.append(client.call("COMMAND INFO " + NUMKEYS_COMMANDS))
        client.close()
    assert replies[0] == replies[1]


GETKEYS_LINES = [
    b"zunionstore d 2 a b WEIGHTS 1 2", b"zinterstore d 1 a", b"zdiffstore d 3 a b c",
    b"zunionstore d 0 a", b"zunionstore d 5 a b", b"zunionstore d x a", b"zunion 2 a b",
    b"zunion 3 a b", b"zunion 0 a", b"zunion -1 a", b"zunion 1", b"zinter 1 a WITHSCORES",
    b"zdiff 2 a b", b"zintercard 2 a b LIMIT 1", b"sintercard 1 a LIMIT 2", b"sintercard 2 a",
    b"lmpop 2 a b LEFT", b"lmpop -1 a LEFT", b"blmpop 0 1 a LEFT", b"blmpop 0 3 a b LEFT",
    b"zmpop 1 a MIN COUNT 2", b"bzmpop 0 2 a b MIN", b"bzmpop 0 x a b MIN",
    b"bzpopmin a b 0", b"zrangestore d s 0 -1", b"blpop a b 0",
]


def test_command_getkeys_of_numkeys_commands_matches_redis(cascade, redis_server):
    clients = [Raw(cascade.port), Raw(redis_server.port)]
    for line in GETKEYS_LINES:
        replies = [c.call([b"COMMAND", b"GETKEYS"] + line.split(b" ")) for c in clients]
        assert replies[0] == replies[1], line
    for c in clients:
        c.close()
