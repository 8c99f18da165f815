// ReplyWriter: the exact bytes of every reply type in RESP2 and RESP3. The expected forms
// were read from redis-server 7.0.15 (DEBUG PROTOCOL <type> after HELLO 2 / HELLO 3, and
// ZSCORE for doubles).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "resp/reply_writer.h"
#include "resp_test_util.h"

namespace cascade::resp {
namespace {

template <typename Fn>
std::string written(RespVersion version, Fn&& fn) {
  ReplyWriter w(version);
  fn(w);
  return w.buffer().to_string();
}

// Checks one write in both versions.
template <typename Fn>
void check_both(Fn&& fn, std::string_view resp2, std::string_view resp3) {
  CHECK(written(RespVersion::kResp2, fn) == resp2);
  CHECK(written(RespVersion::kResp3, fn) == resp3);
}

}  // namespace

TEST_CASE("writer emits scalar replies identically in both versions") {
  check_both([](ReplyWriter& w) { w.ok(); }, "+OK\r\n", "+OK\r\n");
  check_both([](ReplyWriter& w) { w.simple_string("PONG"); }, "+PONG\r\n", "+PONG\r\n");
  check_both([](ReplyWriter& w) { w.error("ERR unknown"); }, "-ERR unknown\r\n",
             "-ERR unknown\r\n");
  check_both([](ReplyWriter& w) { w.error("-WRONGTYPE x"); }, "-WRONGTYPE x\r\n",
             "-WRONGTYPE x\r\n");
  check_both([](ReplyWriter& w) { w.integer(12345); }, ":12345\r\n", ":12345\r\n");
  check_both([](ReplyWriter& w) { w.integer(std::numeric_limits<std::int64_t>::min()); },
             ":-9223372036854775808\r\n", ":-9223372036854775808\r\n");
  check_both([](ReplyWriter& w) { w.zero(); w.one(); }, ":0\r\n:1\r\n", ":0\r\n:1\r\n");
  check_both([](ReplyWriter& w) { w.bulk("Hello World"); }, "$11\r\nHello World\r\n",
             "$11\r\nHello World\r\n");
  check_both([](ReplyWriter& w) { w.bulk(""); }, "$0\r\n\r\n", "$0\r\n\r\n");
  check_both([](ReplyWriter& w) { w.bulk(std::string_view("a\0\r\n", 4)); },
             std::string_view("$4\r\na\0\r\n\r\n", 10), std::string_view("$4\r\na\0\r\n\r\n", 10));
}

TEST_CASE("writer replaces CR and LF in status and error texts") {
  check_both([](ReplyWriter& w) { w.error("ERR bad\r\nthing"); }, "-ERR bad  thing\r\n",
             "-ERR bad  thing\r\n");
  check_both([](ReplyWriter& w) { w.simple_string("a\nb"); }, "+a b\r\n", "+a b\r\n");
}

TEST_CASE("writer degrades RESP3 scalars to RESP2 as Redis does") {
  check_both([](ReplyWriter& w) { w.null(); }, "$-1\r\n", "_\r\n");
  check_both([](ReplyWriter& w) { w.null_array(); }, "*-1\r\n", "_\r\n");
  check_both([](ReplyWriter& w) { w.boolean(true); }, ":1\r\n", "#t\r\n");
  check_both([](ReplyWriter& w) { w.boolean(false); }, ":0\r\n", "#f\r\n");
  check_both([](ReplyWriter& w) { w.double_value(3.141); }, "$5\r\n3.141\r\n", ",3.141\r\n");
  check_both([](ReplyWriter& w) { w.double_value(1.1); }, "$18\r\n1.1000000000000001\r\n",
             ",1.1000000000000001\r\n");
  check_both([](ReplyWriter& w) { w.double_value(3); }, "$1\r\n3\r\n", ",3\r\n");
  check_both([](ReplyWriter& w) { w.double_value(1e300); }, "$23\r\n1.0000000000000001e+300\r\n",
             ",1.0000000000000001e+300\r\n");
  check_both([](ReplyWriter& w) { w.double_value(1e-7); }, "$22\r\n9.9999999999999995e-08\r\n",
             ",9.9999999999999995e-08\r\n");
  check_both([](ReplyWriter& w) { w.double_value(INFINITY); }, "$3\r\ninf\r\n", ",inf\r\n");
  check_both([](ReplyWriter& w) { w.double_value(-INFINITY); }, "$4\r\n-inf\r\n", ",-inf\r\n");
  check_both([](ReplyWriter& w) { w.big_number("1234567999999999999999999999999999999"); },
             "$37\r\n1234567999999999999999999999999999999\r\n",
             "(1234567999999999999999999999999999999\r\n");
  check_both([](ReplyWriter& w) { w.verbatim("This is a verbatim\nstring"); },
             "$25\r\nThis is a verbatim\nstring\r\n", "=29\r\ntxt:This is a verbatim\nstring\r\n");
  check_both([](ReplyWriter& w) { w.verbatim("# x", "mkd"); }, "$3\r\n# x\r\n",
             "=7\r\nmkd:# x\r\n");
}

TEST_CASE("writer formats doubles exactly as printf %.17g") {
  std::mt19937_64 rng(testing::test_seed() + 20);
  INFO("CASCADE_SEED=" << testing::test_seed());
  ReplyWriter w(RespVersion::kResp3);
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t bits = rng();
    double d = 0;
    std::memcpy(&d, &bits, sizeof d);
    if (i % 2 == 0) d = static_cast<double>(static_cast<std::int64_t>(rng() % 2000000) - 1000000) / 64;
    if (std::isinf(d)) continue;
    char want[64];
    std::snprintf(want, sizeof want, ",%.17g\r\n", d);
    w.buffer().clear();
    w.double_value(d);
    REQUIRE(w.buffer().to_string() == want);
  }
}

TEST_CASE("writer degrades RESP3 aggregates to RESP2 as Redis does") {
  auto three = [](ReplyWriter& w) { w.integer(0); w.integer(1); w.integer(2); };
  check_both([&](ReplyWriter& w) { w.array(3); three(w); }, "*3\r\n:0\r\n:1\r\n:2\r\n",
             "*3\r\n:0\r\n:1\r\n:2\r\n");
  check_both([&](ReplyWriter& w) { w.set(3); three(w); }, "*3\r\n:0\r\n:1\r\n:2\r\n",
             "~3\r\n:0\r\n:1\r\n:2\r\n");
  check_both(
      [](ReplyWriter& w) {
        w.map(3);
        for (int i = 0; i < 3; ++i) {
          w.integer(i);
          w.boolean(i == 1);
        }
      },
      "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n");
  check_both([](ReplyWriter& w) { w.push(2); w.bulk("message"); w.integer(42); },
             "*2\r\n$7\r\nmessage\r\n:42\r\n", ">2\r\n$7\r\nmessage\r\n:42\r\n");
  check_both([](ReplyWriter& w) { w.array(0); w.map(0); }, "*0\r\n*0\r\n", "*0\r\n%0\r\n");
}

TEST_CASE("writer drops an attribute and everything in it for RESP2") {
  auto with_attribute = [](ReplyWriter& w) {
    w.attribute(2);
    w.bulk("key-popularity");
    w.array(2);
    w.bulk("key:123");
    w.integer(90);
    w.simple_string("nested");
    w.map(1);
    w.attribute(1);  // an attribute inside an attribute is no element of it
    w.null();
    w.null_array();
    w.array(0);
    w.double_value(1.5);
    w.bulk("Some real reply following the attribute");
  };
  check_both(with_attribute, "$39\r\nSome real reply following the attribute\r\n",
             "|2\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n+nested\r\n%1\r\n|1\r\n"
             "_\r\n_\r\n*0\r\n,1.5\r\n$39\r\nSome real reply following the attribute\r\n");
  check_both([](ReplyWriter& w) { w.attribute(0); w.ok(); }, "+OK\r\n", "|0\r\n+OK\r\n");
}

TEST_CASE("encoded elements are the bytes bulk() writes, in both versions") {
  const std::string big(kDefaultReferenceThreshold, 'x');  // taken over, not copied
  for (const std::vector<std::string>& payloads :
       {std::vector<std::string>{}, {"a", "", "member:12345"}, {"small", big, "after"}}) {
    auto one_by_one = [&](ReplyWriter& w) {
      w.set(payloads.size());
      for (const std::string& p : payloads) w.bulk(p);
      w.ok();
    };
    auto encoded = [&](ReplyWriter& w) {
      EncodedElements e;
      for (const std::string& p : payloads) e.bulk(p);
      CHECK(e.count() == payloads.size());
      w.set(e.count());
      w.encoded(std::move(e));
      w.ok();
    };
    CHECK(written(RespVersion::kResp2, encoded) == written(RespVersion::kResp2, one_by_one));
    CHECK(written(RespVersion::kResp3, encoded) == written(RespVersion::kResp3, one_by_one));
  }
}

TEST_CASE("an encoded double is the bulk string a RESP2 client gets from double_value") {
  for (double v : {0.0, 1.5, -2.25, 1e300, 0.1, std::numeric_limits<double>::infinity(),
                   -std::numeric_limits<double>::infinity()}) {
    EncodedElements e;
    e.double_as_bulk(v);
    CHECK(e.bytes() == written(RespVersion::kResp2, [v](ReplyWriter& w) { w.double_value(v); }));
  }
}

TEST_CASE("encoded elements an attribute covers are dropped for RESP2, the rest written") {
  auto with_attribute = [](ReplyWriter& w) {
    w.attribute(1);
    w.bulk("key");
    EncodedElements e;
    e.bulk("dropped value");
    e.bulk("kept");
    e.bulk("12345678901");
    w.encoded(std::move(e));
  };
  check_both(with_attribute, "$4\r\nkept\r\n$11\r\n12345678901\r\n",
             "|1\r\n$3\r\nkey\r\n$13\r\ndropped value\r\n$4\r\nkept\r\n$11\r\n"
             "12345678901\r\n");
}

TEST_CASE("writer fills deferred aggregate lengths in place") {
  auto deferred = [](ReplyWriter& w) {
    w.ok();
    const DeferredLength outer = w.defer_array();
    w.integer(1);
    const DeferredLength inner = w.defer_map();
    w.bulk("k");
    w.bulk("v");
    w.finish(inner, 1);
    const DeferredLength set = w.defer_set();
    w.finish(set, 0);
    w.finish(outer, 3);
    w.integer(2);
  };
  check_both(deferred, "+OK\r\n*3\r\n:1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n*0\r\n:2\r\n",
             "+OK\r\n*3\r\n:1\r\n%1\r\n$1\r\nk\r\n$1\r\nv\r\n~0\r\n:2\r\n");
}

TEST_CASE("writer passes large payloads by reference and copies small ones") {
  ReplyWriter w(RespVersion::kResp2, /*reference_threshold=*/100);
  const std::string large(1000, 'L');
  w.bulk_ref("small");
  w.bulk_ref(large);
  w.bulk_owned(std::string(200, 'O'));
  w.bulk_owned(std::string(5, 'o'));
  const ReplyBuffer& b = w.buffer();
  CHECK_FALSE(b.contiguous());
  iovec iov[16];
  const std::size_t n = b.gather(iov);
  REQUIRE(n == 5);
  CHECK(iov[1].iov_base == large.data());  // not copied
  CHECK(iov[1].iov_len == 1000);
  CHECK(iov[3].iov_len == 200);
  CHECK(b.to_string() == "$5\r\nsmall\r\n$1000\r\n" + large + "\r\n$200\r\n" +
                             std::string(200, 'O') + "\r\n$5\r\nooooo\r\n");
}

TEST_CASE("writer allocates nothing per reply once its buffer is warm") {
  ReplyWriter w(RespVersion::kResp3);
  const std::string value(64, 'v');
  auto one_batch = [&] {
    for (int i = 0; i < 100; ++i) {
      w.ok();
      w.integer(i * 1000003);
      w.bulk(value);
      w.array(2);
      w.null();
      w.double_value(i / 3.0);
    }
    w.buffer().clear();
  };
  one_batch();
  const std::uint64_t before = testing::allocation_count();
  for (int round = 0; round < 10; ++round) one_batch();
  CHECK(testing::allocation_count() - before == 0);
}

}  // namespace cascade::resp
