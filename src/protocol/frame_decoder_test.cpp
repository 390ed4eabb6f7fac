#include "protocol/frame_decoder.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "protocol/cobs.hpp"
#include "protocol/frame_encoder.hpp"

namespace spasmwatch::protocol {
namespace {

using Status = FrameDecoder::Status;

std::vector<std::uint8_t> payload_of(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> p(size);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(seed + i * 7);
  return p;
}

std::vector<std::uint8_t> frame_of(const std::vector<std::uint8_t>& payload) {
  std::vector<std::uint8_t> out;
  encode_frame(payload, out);
  return out;
}

struct Collected {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<FrameError> errors;
  std::size_t bad_bytes = 0;
};

Collected feed_all(FrameDecoder& decoder, std::span<const std::uint8_t> bytes,
                   std::size_t chunk = SIZE_MAX) {
  Collected c;
  while (!bytes.empty()) {
    auto piece = bytes.first(std::min(chunk, bytes.size()));
    bytes = bytes.subspan(piece.size());
    while (!piece.empty()) {
      const auto r = decoder.next(piece);
      if (r.status == Status::frame) c.frames.emplace_back(r.payload.begin(), r.payload.end());
      if (r.status == Status::error) {
        c.errors.push_back(r.error);
        c.bad_bytes += r.bad_bytes;
      }
    }
  }
  return c;
}

TEST(FrameDecoder, DecodesBackToBackFramesInAnyChunking) {
  std::vector<std::uint8_t> stream;
  std::vector<std::vector<std::uint8_t>> payloads;
  for (std::uint8_t i = 0; i < 20; ++i) {
    payloads.push_back(payload_of(1 + i * 37u, i));
    const auto f = frame_of(payloads.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{255}, SIZE_MAX}) {
    FrameDecoder decoder;
    const auto c = feed_all(decoder, stream, chunk);
    EXPECT_EQ(c.frames, payloads) << "chunk " << chunk;
    EXPECT_TRUE(c.errors.empty());
  }
}

TEST(FrameDecoder, ResyncsAfterGarbage) {
  std::vector<std::uint8_t> stream{0x13, 0x37, 0xFF, 0x42, 0x00};  // garbage ending at a delimiter
  const auto good = payload_of(100, 9);
  const auto f = frame_of(good);
  stream.insert(stream.end(), f.begin(), f.end());
  FrameDecoder decoder;
  const auto c = feed_all(decoder, stream);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0], good);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.bad_bytes, 4u);
}

TEST(FrameDecoder, IgnoresIdleDelimiters) {
  std::vector<std::uint8_t> stream{0, 0, 0};
  const auto f = frame_of(payload_of(10, 1));
  stream.insert(stream.end(), f.begin(), f.end());
  stream.insert(stream.end(), {0, 0});
  FrameDecoder decoder;
  const auto c = feed_all(decoder, stream);
  EXPECT_EQ(c.frames.size(), 1u);
  EXPECT_TRUE(c.errors.empty());
}

TEST(FrameDecoder, CrcRejectsEverySingleBitFlip) {
  const auto good = payload_of(40, 3);
  const auto f = frame_of(good);
  std::size_t rejected = 0;
  std::size_t flips = 0;
  for (std::size_t bit = 0; bit < (f.size() - 1) * 8; ++bit) {
    auto damaged = f;
    damaged[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    FrameDecoder decoder;
    const auto c = feed_all(decoder, damaged);
    ++flips;
    // A flip may turn a byte into 0x00, splitting the frame; either way no frame may pass.
    EXPECT_TRUE(c.frames.empty()) << "bit " << bit;
    if (!c.errors.empty()) ++rejected;
  }
  EXPECT_EQ(rejected, flips);
}

TEST(FrameDecoder, EveryTruncationPointIsRejectedAndTheNextFrameSurvives) {
  const auto first = payload_of(300, 5);   // > 254 bytes: exercises a 0xFF COBS code
  const auto second = payload_of(50, 77);
  const auto f1 = frame_of(first);
  const auto f2 = frame_of(second);
  for (std::size_t cut = 1; cut < f1.size(); ++cut) {
    // The frame is cut short (delimiter lost with the tail) and the next frame follows directly:
    // both merge into one bad frame. A third frame after them must decode.
    std::vector<std::uint8_t> stream(f1.begin(), f1.begin() + static_cast<std::ptrdiff_t>(cut - 1));
    stream.insert(stream.end(), f2.begin(), f2.end());
    stream.insert(stream.end(), f2.begin(), f2.end());
    FrameDecoder decoder;
    const auto c = feed_all(decoder, stream);
    EXPECT_EQ(c.errors.size(), cut == 1 ? 0u : 1u) << "cut " << cut;
    ASSERT_FALSE(c.frames.empty()) << "cut " << cut;
    EXPECT_EQ(c.frames.back(), second);
    for (const auto& frame : c.frames) EXPECT_EQ(frame, second) << "cut " << cut;
  }
}

TEST(FrameDecoder, TruncatedTailIsPendingThenDroppedOnReset) {
  const auto f = frame_of(payload_of(30, 2));
  FrameDecoder decoder;
  const auto c = feed_all(decoder, std::span(f).first(f.size() / 2));
  EXPECT_TRUE(c.frames.empty());
  EXPECT_EQ(decoder.pending_bytes(), f.size() / 2);
  EXPECT_EQ(decoder.reset(), f.size() / 2);
  EXPECT_EQ(decoder.pending_bytes(), 0u);
}

TEST(FrameDecoder, OversizeFrameIsRejectedThenDecoderRecovers) {
  FrameDecoder decoder(100);
  std::vector<std::uint8_t> stream(5000, 0x55);
  stream.push_back(0);
  const auto good = payload_of(100, 1);  // exactly at the limit
  const auto f = frame_of(good);
  stream.insert(stream.end(), f.begin(), f.end());
  const auto c = feed_all(decoder, stream, 64);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameError::oversize);
  EXPECT_EQ(c.bad_bytes, 5000u);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0], good);

  FrameDecoder small(100);
  const auto too_big = frame_of(payload_of(101, 1));
  const auto c2 = feed_all(small, too_big);
  ASSERT_EQ(c2.errors.size(), 1u);
  EXPECT_EQ(c2.errors[0], FrameError::oversize);
}

TEST(FrameDecoder, ShortAndInvalidFramesAreNamed) {
  FrameDecoder decoder;
  std::vector<std::uint8_t> short_frame;
  cobs_encode(std::vector<std::uint8_t>{1, 2, 3}, short_frame);
  short_frame.push_back(0);
  auto c = feed_all(decoder, short_frame);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameError::too_short);
  EXPECT_EQ(to_string(c.errors[0]), "frame too short");

  const std::vector<std::uint8_t> bad_cobs{0x09, 1, 2, 0};
  c = feed_all(decoder, bad_cobs);
  ASSERT_EQ(c.errors.size(), 1u);
  EXPECT_EQ(c.errors[0], FrameError::cobs_invalid);
}

TEST(FrameDecoder, RandomBytesNeverCrashAndNeverYieldUncheckedFrames) {
  std::mt19937 rng(1234);
  FrameDecoder decoder(1000);
  std::vector<std::uint8_t> noise(200'000);
  for (auto& b : noise) b = static_cast<std::uint8_t>(rng() % 16 == 0 ? 0 : rng());
  const auto c = feed_all(decoder, noise, 97);
  // CRC-32C lets through about 1 in 4 billion random frames; none is expected here.
  EXPECT_TRUE(c.frames.empty());
  EXPECT_GT(c.errors.size(), 100u);
}

}  // namespace
}  // namespace spasmwatch::protocol
