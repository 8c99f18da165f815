// The sorted-set score encodings of src/types/collection.h: the index key sorts bytewise as
// the scores do numerically, and both encodings round-trip.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "src/types/collection.h"
#include "tests/support/test_seed.h"

using namespace cascade;
using namespace cascade::types;

namespace {

std::string score_key(double score) {
  std::string out;
  append_score_key(out, score);
  return out;
}

// A double from anywhere in the range: random bits (NaNs skipped), or one of the edges.
double random_double(std::mt19937_64& rng) {
  static const double kEdges[] = {0.0, -0.0, 1.0, -1.0, std::numeric_limits<double>::infinity(),
                                  -std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::max(),
                                  std::numeric_limits<double>::lowest(),
                                  std::numeric_limits<double>::min(),
                                  std::numeric_limits<double>::denorm_min(),
                                  -std::numeric_limits<double>::denorm_min(), 0.1, 1e300};
  if (rng() % 8 == 0) return kEdges[rng() % std::size(kEdges)];
  for (;;) {
    const double d = std::bit_cast<double>(rng());
    if (!std::isnan(d)) return d;
  }
}

}  // namespace

TEST_CASE("score keys sort bytewise exactly as the scores sort numerically") {
  std::mt19937_64 rng(testing::test_seed("score keys sort"));
  std::vector<double> scores;
  for (int i = 0; i < 20000; ++i) scores.push_back(random_double(rng));
  for (int i = 0; i < 20000; ++i) {
    const double a = scores[rng() % scores.size()];
    const double b = scores[rng() % scores.size()];
    const int bytes = score_key(a).compare(score_key(b));
    const int numbers = a < b ? -1 : (a > b ? 1 : 0);
    CHECK((bytes < 0 ? -1 : (bytes > 0 ? 1 : 0)) == numbers);
  }
  std::sort(scores.begin(), scores.end());
  for (std::size_t i = 1; i < scores.size(); ++i) {
    CHECK(score_key(scores[i - 1]) <= score_key(scores[i]));
  }
}

TEST_CASE("score keys decode to the score, -0 to +0") {
  std::mt19937_64 rng(testing::test_seed("score keys decode"));
  for (int i = 0; i < 10000; ++i) {
    const double d = random_double(rng);
    const double back = decode_score_key(score_key(d));
    CHECK(back == d);
    if (d != 0) CHECK(std::bit_cast<std::uint64_t>(back) == std::bit_cast<std::uint64_t>(d));
  }
  CHECK(score_key(-0.0) == score_key(0.0));
  CHECK_FALSE(std::signbit(decode_score_key(score_key(-0.0))));
  CHECK(score_key(-std::numeric_limits<double>::infinity()) < score_key(std::numeric_limits<double>::lowest()));
  CHECK(score_key(std::numeric_limits<double>::max()) < score_key(std::numeric_limits<double>::infinity()));
}

TEST_CASE("score values round-trip their bits and refuse NaN and bad lengths") {
  for (double d : {0.1, -2.5, 1e300, std::numeric_limits<double>::infinity()}) {
    std::string value;
    append_score_value(value, d);
    REQUIRE(value.size() == 8);
    auto back = decode_score_value(value);
    REQUIRE(back);
    CHECK(*back == d);
  }
  std::string nan;
  append_score_value(nan, std::numeric_limits<double>::quiet_NaN());
  CHECK_FALSE(decode_score_value(nan));
  CHECK_FALSE(decode_score_value("1234567"));
}
