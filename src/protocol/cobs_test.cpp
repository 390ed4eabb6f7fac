#include "protocol/cobs.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace spasmwatch::protocol {
namespace {

std::vector<std::uint8_t> encode(const std::vector<std::uint8_t>& in) {
  std::vector<std::uint8_t> out;
  cobs_encode(in, out);
  return out;
}

TEST(Cobs, EncodesPublishedExamples) {
  // Examples from the COBS paper / Wikipedia table.
  EXPECT_EQ(encode({0x00}), (std::vector<std::uint8_t>{0x01, 0x01}));
  EXPECT_EQ(encode({0x00, 0x00}), (std::vector<std::uint8_t>{0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({0x11, 0x22, 0x00, 0x33}),
            (std::vector<std::uint8_t>{0x03, 0x11, 0x22, 0x02, 0x33}));
  EXPECT_EQ(encode({0x11, 0x00, 0x00, 0x00}),
            (std::vector<std::uint8_t>{0x02, 0x11, 0x01, 0x01, 0x01}));
  EXPECT_EQ(encode({}), (std::vector<std::uint8_t>{0x01}));
}

TEST(Cobs, RoundTripsRandomDataWithoutZerosInTheEncoding) {
  std::mt19937 rng(42);
  for (std::size_t size : {0u, 1u, 253u, 254u, 255u, 256u, 508u, 1000u, 5000u}) {
    std::vector<std::uint8_t> in(size);
    for (auto& b : in) b = static_cast<std::uint8_t>(rng() % 4 == 0 ? 0 : rng());
    const auto enc = encode(in);
    EXPECT_LE(enc.size(), cobs_max_encoded_size(size));
    EXPECT_EQ(std::count(enc.begin(), enc.end(), 0), 0);
    std::vector<std::uint8_t> dec(enc.size());
    const auto n = cobs_decode(enc, dec.data());
    ASSERT_TRUE(n.has_value()) << size;
    dec.resize(*n);
    EXPECT_EQ(dec, in) << size;
  }
}

TEST(Cobs, DecodesInPlace) {
  const std::vector<std::uint8_t> in{1, 0, 2, 0, 0, 3};
  auto buf = encode(in);
  const auto n = cobs_decode(buf, buf.data());
  ASSERT_TRUE(n);
  buf.resize(*n);
  EXPECT_EQ(buf, in);
}

TEST(Cobs, RejectsCodeRunningPastTheEndAndEmbeddedZero) {
  std::uint8_t out[16];
  EXPECT_FALSE(cobs_decode(std::vector<std::uint8_t>{0x05, 0x11, 0x22}, out));
  EXPECT_FALSE(cobs_decode(std::vector<std::uint8_t>{0x03, 0x11, 0x00}, out));
  EXPECT_FALSE(cobs_decode(std::vector<std::uint8_t>{0x00}, out));
}

}  // namespace
}  // namespace spasmwatch::protocol
