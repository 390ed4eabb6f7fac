#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "protocol/crc32c.hpp"
#include "record/allocation_counter.hpp"
#include "record/recording_reader.hpp"
#include "record/recording_writer.hpp"

namespace spasmwatch::record {
namespace {

using protocol::FrameError;
using protocol::FrameEvent;
using protocol::FrameEventKind;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sw_record_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  [[nodiscard]] std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::vector<std::uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_all(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// An event with its own copy of the message, for comparing later.
struct OwnedEvent {
  FrameEvent event;
  std::shared_ptr<proto::DeviceMessage> message;

  [[nodiscard]] FrameEvent view() const {
    FrameEvent e = event;
    e.message = message.get();
    return e;
  }
};

OwnedEvent message_event(std::int64_t host_time_ns, proto::DeviceMessage message) {
  OwnedEvent e;
  e.event.kind = FrameEventKind::message;
  e.event.host_time_ns = host_time_ns;
  e.message = std::make_shared<proto::DeviceMessage>(std::move(message));
  return e;
}

OwnedEvent link_event(FrameEventKind kind, std::int64_t host_time_ns, FrameError error = FrameError::none,
                      std::uint32_t bad_bytes = 0, std::uint32_t ping_id = 0) {
  OwnedEvent e;
  e.event.kind = kind;
  e.event.host_time_ns = host_time_ns;
  e.event.error = error;
  e.event.bad_bytes = bad_bytes;
  e.event.ping_id = ping_id;
  return e;
}

proto::DeviceMessage sample_message(std::uint32_t stream_id, std::uint32_t sequence,
                                    std::uint64_t first_index, std::uint64_t device_time_us,
                                    std::uint32_t time_points, std::size_t channels, std::mt19937& rng,
                                    double sigma = 20) {
  proto::DeviceMessage m;
  auto* block = m.mutable_samples();
  block->set_stream_id(stream_id);
  block->set_sequence(sequence);
  block->set_first_sample_index(first_index);
  block->set_device_time_us(device_time_us);
  block->set_time_points(time_points);
  std::normal_distribution<double> noise(0, sigma);
  for (std::size_t i = 0; i < time_points * channels; ++i) {
    block->add_samples(static_cast<std::int32_t>(std::lround(noise(rng))));
  }
  return m;
}

proto::DeviceMessage hello_message() {
  proto::DeviceMessage m;
  auto* hello = m.mutable_hello();
  hello->set_protocol_version(1);
  hello->set_device_id("SW-0042");
  hello->set_firmware("1.2.3");
  hello->set_site(proto::CALF);
  hello->set_side(proto::LEFT);
  hello->set_session_id(0xDEADBEEFCAFEF00Dull);
  hello->set_device_time_us(5'000'000);
  auto* emg = hello->add_streams();
  emg->set_stream_id(1);
  emg->set_name("emg");
  emg->set_rate_hz(2000);
  for (int c = 0; c < 8; ++c) {
    auto* ch = emg->add_channels();
    ch->set_label("emg" + std::to_string(c + 1));
    ch->set_kind(proto::EMG);
    ch->set_unit("uV");
    ch->set_scale(0.25);
  }
  emg->set_bits(16);
  hello->set_streaming(true);
  return m;
}

// One of every kind of event, with awkward values where the format predicts or wraps.
std::vector<OwnedEvent> every_kind_of_event() {
  std::mt19937 rng(11);
  std::vector<OwnedEvent> events;
  std::int64_t t = 1'700'000'000'000'000'000;
  events.push_back(link_event(FrameEventKind::connected, t));
  events.push_back(message_event(t += 1'000'000, hello_message()));
  events.push_back(link_event(FrameEventKind::ping_sent, t += 10, FrameError::none, 0, 77));
  proto::DeviceMessage pong;
  pong.mutable_pong()->set_ping_id(77);
  pong.mutable_pong()->set_device_receive_time_us(5'001'000);
  pong.mutable_pong()->set_device_send_time_us(5'001'020);
  events.push_back(message_event(t += 2'000'000, pong));
  for (std::uint32_t k = 0; k < 6; ++k) {
    events.push_back(message_event(t += 20'000'000 + 37 * k,
                                   sample_message(1, 100 + k, 40 * k, 5'002'000 + 20'000 * k, 40, 8, rng)));
    if (k % 2 == 0) {  // a second stream interleaved: acc, 3 channels at 100 Hz
      events.push_back(
          message_event(t += 3, sample_message(2, k / 2, 2 * k, 5'002'000 + 20'000 * k, 2, 3, rng, 4000)));
    }
  }
  events.push_back(link_event(FrameEventKind::bad_frame, t += 5, FrameError::crc_mismatch, 123));
  events.push_back(link_event(FrameEventKind::bad_frame, t += 5, FrameError::invalid_message, 7));
  // A gap, a sequence wrap and a jump back in host time (the wall clock was stepped).
  events.push_back(
      message_event(t -= 5'000'000'000, sample_message(1, 0xFFFFFFFFu, 1'000'000, 9'000'000, 40, 8, rng)));
  events.push_back(message_event(t += 20'000'000, sample_message(1, 0, 1'000'040, 9'020'000, 40, 8, rng)));
  // Not a whole number of time points, no time points, no samples.
  events.push_back(message_event(t += 1, sample_message(1, 1, 1'000'080, 9'040'000, 40, 8, rng)));
  events.back().message->mutable_samples()->add_samples(-5);
  events.push_back(message_event(t += 1, sample_message(3, 5, 0, 0, 0, 0, rng)));
  events.back().message->mutable_samples()->add_samples(std::numeric_limits<std::int32_t>::min());
  events.push_back(message_event(t += 1, sample_message(4, 0, 0, 0, 0, 0, rng)));
  proto::DeviceMessage status;
  status.mutable_status()->set_device_time_us(9'100'000);
  status.mutable_status()->set_battery_percent(81);
  status.mutable_status()->set_lead_off_mask(0b101);
  events.push_back(message_event(t += 1'000'000'000, status));
  proto::DeviceMessage end;
  end.mutable_end_of_session()->set_session_id(0xDEADBEEFCAFEF00Dull);
  end.mutable_end_of_session()->set_device_time_us(9'200'000);
  auto* total = end.mutable_end_of_session()->add_totals();
  total->set_stream_id(1);
  total->set_time_points(1'000'120);
  total->set_blocks(25'003);
  events.push_back(message_event(t += 1, end));
  events.push_back(message_event(t += 1, proto::DeviceMessage{}));  // no body at all
  events.push_back(link_event(FrameEventKind::disconnected, std::numeric_limits<std::int64_t>::min(),
                              FrameError::none, 17));
  events.push_back(link_event(FrameEventKind::connected, std::numeric_limits<std::int64_t>::max()));
  return events;
}

void expect_same_event(const FrameEvent& got, const FrameEvent& want, std::size_t index) {
  SCOPED_TRACE("event " + std::to_string(index));
  EXPECT_EQ(got.kind, want.kind);
  EXPECT_EQ(got.host_time_ns, want.host_time_ns);
  EXPECT_EQ(got.error, want.error);
  EXPECT_EQ(got.bad_bytes, want.bad_bytes);
  EXPECT_EQ(got.ping_id, want.ping_id);
  ASSERT_EQ(got.message == nullptr, want.message == nullptr);
  if (want.message != nullptr) {
    EXPECT_EQ(got.message->SerializeAsString(), want.message->SerializeAsString());
  }
}

RecordingInfo test_info() {
  return {"SW-0042 calf left", 1'700'000'000'123'456'789, "record_test"};
}

// Writes `events` to `path`; returns the file offset after each record (record boundaries).
std::vector<std::uint64_t> write_recording(const std::string& path, const std::vector<OwnedEvent>& events) {
  auto writer = RecordingWriter::create(path, test_info());
  std::vector<std::uint64_t> ends;
  for (const auto& e : events) {
    writer->append(e.view());
    ends.push_back(writer->bytes_written());
  }
  writer->close();
  return ends;
}

TEST(Recording, EveryEventKindRoundTripsExactly) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("all.swr");
  write_recording(path, events);

  auto reader = RecordingReader::open(path);
  EXPECT_EQ(reader->info().device_name, test_info().device_name);
  EXPECT_EQ(reader->info().created_utc_ns, test_info().created_utc_ns);
  EXPECT_EQ(reader->info().software, test_info().software);
  FrameEvent got;
  std::size_t n = 0;
  while (reader->next(got)) {
    ASSERT_LT(n, events.size());
    expect_same_event(got, events[n].view(), n);
    ++n;
  }
  EXPECT_EQ(n, events.size());
  EXPECT_EQ(reader->end(), ReadEnd::clean) << reader->end_message();
  EXPECT_EQ(reader->bytes_read(), reader->file_size());
  EXPECT_FALSE(reader->next(got));  // stays at the end
}

TEST(Recording, WriterCountsBytesAndSamples) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("count.swr");
  auto writer = RecordingWriter::create(path, test_info());
  std::uint64_t samples = 0;
  for (const auto& e : events) {
    writer->append(e.view());
    if (e.message && e.message->has_samples())
      samples += static_cast<std::uint64_t>(e.message->samples().samples_size());
  }
  EXPECT_EQ(writer->samples_written(), samples);
  const auto expected_size = writer->bytes_written();
  writer->flush();
  EXPECT_EQ(std::filesystem::file_size(path), expected_size);
}

TEST(Recording, HeaderAloneIsAValidEmptyRecording) {
  TempDir dir;
  const auto path = dir.file("empty.swr");
  RecordingWriter::create(path, test_info())->close();
  auto reader = RecordingReader::open(path);
  EXPECT_EQ(reader->info().device_name, test_info().device_name);
  FrameEvent e;
  EXPECT_FALSE(reader->next(e));
  EXPECT_EQ(reader->end(), ReadEnd::clean);
  EXPECT_EQ(reader->records_read(), 0u);
}

TEST(Recording, TruncationAtEveryByteKeepsEveryCompleteRecord) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("cut.swr");
  const auto ends = write_recording(path, events);
  const auto bytes = read_all(path);
  const std::uint64_t header = RecordingReader::from_bytes(bytes)->bytes_read();  // before any record
  ASSERT_EQ(ends.back(), bytes.size());

  for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
    SCOPED_TRACE("cut at " + std::to_string(cut));
    std::vector<std::uint8_t> prefix(bytes.begin(), bytes.begin() + static_cast<long>(cut));
    if (cut < header) {
      EXPECT_THROW(RecordingReader::from_bytes(prefix, "cut.swr"), RecordingError);
      continue;
    }
    auto reader = RecordingReader::from_bytes(std::move(prefix), "cut.swr");
    std::size_t complete = 0;
    while (complete < ends.size() && ends[complete] <= cut) ++complete;
    FrameEvent got;
    std::size_t n = 0;
    while (reader->next(got)) {
      ASSERT_LT(n, complete);
      expect_same_event(got, events[n].view(), n);
      ++n;
    }
    EXPECT_EQ(n, complete);
    const bool at_boundary = cut == header || (complete > 0 && ends[complete - 1] == cut);
    EXPECT_EQ(reader->end(), at_boundary ? ReadEnd::clean : ReadEnd::truncated) << reader->end_message();
    EXPECT_EQ(reader->bytes_read(), complete == 0 ? header : ends[complete - 1]);
    if (!at_boundary) {
      EXPECT_EQ(reader->end_message(), "truncated record at byte " + std::to_string(reader->bytes_read()) +
                                           " (crash while writing?)");
    }
  }
}

TEST(Recording, FlippedByteStopsAtThatRecordAsCorrupt) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("flip.swr");
  const auto ends = write_recording(path, events);
  const auto bytes = read_all(path);
  // Every byte of a hello record, a sample record and a link event record, flipped two ways.
  for (std::size_t victim : {1u, 4u, 7u, 10u}) {
    const std::uint64_t begin = ends[victim - 1];
    for (std::uint64_t at = begin; at < ends[victim]; ++at) {
      for (std::uint8_t mask : {std::uint8_t{0x01}, std::uint8_t{0xFF}}) {
        SCOPED_TRACE("record " + std::to_string(victim) + " byte " + std::to_string(at) + " mask " +
                     std::to_string(mask));
        auto damaged = bytes;
        damaged[at] ^= mask;
        auto reader = RecordingReader::from_bytes(std::move(damaged), "flip.swr");
        FrameEvent got;
        std::size_t n = 0;
        while (reader->next(got)) {
          ASSERT_LT(n, victim);
          expect_same_event(got, events[n].view(), n);
          ++n;
        }
        EXPECT_EQ(n, victim);
        EXPECT_EQ(reader->end(), ReadEnd::corrupt) << reader->end_message();
        EXPECT_EQ(reader->bytes_read(), begin);
        EXPECT_NE(reader->end_message().find("corrupt record at byte " + std::to_string(begin)),
                  std::string::npos)
            << reader->end_message();
      }
    }
  }
}

TEST(Recording, ZeroFilledTailIsReportedAsTruncated) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("zeros.swr");
  write_recording(path, events);
  auto bytes = read_all(path);
  const auto size = bytes.size();
  bytes.resize(size + 4096, 0);
  auto reader = RecordingReader::from_bytes(std::move(bytes));
  FrameEvent got;
  std::size_t n = 0;
  while (reader->next(got)) ++n;
  EXPECT_EQ(n, events.size());
  EXPECT_EQ(reader->end(), ReadEnd::truncated);
  EXPECT_EQ(reader->end_message(),
            "zero-filled tail of 4096 bytes at byte " + std::to_string(size) + " (crash while writing?)");
}

TEST(Recording, DamagedHeaderIsRejectedNamingTheFile) {
  TempDir dir;
  const auto path = dir.file("header.swr");
  write_recording(path, every_kind_of_event());
  const auto bytes = read_all(path);
  const std::size_t header = RecordingReader::from_bytes(bytes)->bytes_read();
  for (std::size_t at = 0; at < header; ++at) {
    auto damaged = bytes;
    damaged[at] ^= 0x10;
    write_all(path, damaged);
    try {
      RecordingReader::open(path);
      ADD_FAILURE() << "header byte " << at << " damaged but accepted";
    } catch (const RecordingError& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(Recording, WrongMagicIsNotARecording) {
  TempDir dir;
  const auto path = dir.file("notes.txt");
  write_all(path, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0});
  try {
    RecordingReader::open(path);
    FAIL() << "accepted a text file";
  } catch (const RecordingError& e) {
    EXPECT_EQ(std::string(e.what()), path + ": not a spasmwatch recording (wrong magic bytes)");
  }
  write_all(path, {});
  EXPECT_THROW(RecordingReader::open(path), RecordingError);
}

TEST(Recording, FutureMajorVersionIsRejectedWithAClearMessage) {
  TempDir dir;
  const auto path = dir.file("future.swr");
  write_recording(path, every_kind_of_event());
  auto bytes = read_all(path);
  bytes[8] = 2;  // major version, little-endian u16 at offset 8
  write_all(path, bytes);
  try {
    RecordingReader::open(path);
    FAIL() << "accepted version 2";
  } catch (const RecordingError& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": unsupported recording format version 2.0 (this build reads version 1.x)");
  }
}

// Frames `body` as a record of `type`, as FORMAT.md describes (for hand-made records).
std::vector<std::uint8_t> frame(std::uint8_t type, const std::vector<std::uint8_t>& body) {
  std::vector<std::uint8_t> r;
  std::size_t n = body.size();
  while (n >= 0x80) {
    r.push_back(static_cast<std::uint8_t>(n | 0x80));
    n >>= 7;
  }
  r.push_back(static_cast<std::uint8_t>(n));
  r.push_back(type);
  r.push_back(static_cast<std::uint8_t>(protocol::crc32c(r)));
  r.insert(r.end(), body.begin(), body.end());
  const std::uint32_t crc = protocol::crc32c(r);
  for (int i = 0; i < 4; ++i) r.push_back(static_cast<std::uint8_t>(crc >> (8 * i)));
  return r;
}

TEST(Recording, NewerMinorVersionWithSkippableRecordsIsRead) {
  TempDir dir;
  const auto events = every_kind_of_event();
  const auto path = dir.file("minor.swr");
  const auto ends = write_recording(path, events);
  auto bytes = read_all(path);
  const std::size_t header = RecordingReader::from_bytes(bytes)->bytes_read();
  // Minor version 7 (header CRC recomputed), and a record of unknown skippable type 0x80 between
  // two records.
  bytes[10] = 7;
  const std::uint32_t crc = protocol::crc32c(std::span(bytes).first(header - 4));
  for (int i = 0; i < 4; ++i)
    bytes[header - 4 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(crc >> (8 * i));
  const auto extra = frame(0x80, {1, 2, 3, 4, 5});
  bytes.insert(bytes.begin() + static_cast<long>(ends[4]), extra.begin(), extra.end());

  auto reader = RecordingReader::from_bytes(std::move(bytes));
  EXPECT_EQ(reader->version_minor(), 7);
  FrameEvent got;
  std::size_t n = 0;
  while (reader->next(got)) {
    ASSERT_LT(n, events.size());
    expect_same_event(got, events[n].view(), n);
    ++n;
  }
  EXPECT_EQ(n, events.size());
  EXPECT_EQ(reader->end(), ReadEnd::clean) << reader->end_message();
}

TEST(Recording, UnknownMandatoryRecordTypeIsCorrupt) {
  TempDir dir;
  const auto path = dir.file("unknown.swr");
  RecordingWriter::create(path, test_info())->close();
  auto bytes = read_all(path);
  const auto record = frame(0x05, {0});
  bytes.insert(bytes.end(), record.begin(), record.end());
  auto reader = RecordingReader::from_bytes(std::move(bytes));
  FrameEvent got;
  EXPECT_FALSE(reader->next(got));
  EXPECT_EQ(reader->end(), ReadEnd::corrupt);
  EXPECT_NE(reader->end_message().find("unknown record type"), std::string::npos);
}

TEST(Recording, FileIsOwnerOnly) {
  TempDir dir;
  const auto path = dir.file("mode.swr");
  const mode_t old_umask = ::umask(0);  // even with a permissive umask
  auto writer = RecordingWriter::create(path, test_info());
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(Recording, CreateRefusesAnExistingFile) {
  TempDir dir;
  const auto path = dir.file("exists.swr");
  write_all(path, {'k', 'e', 'e', 'p'});
  try {
    RecordingWriter::create(path, test_info());
    FAIL() << "overwrote an existing file";
  } catch (const RecordingError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
  EXPECT_EQ(read_all(path), (std::vector<std::uint8_t>{'k', 'e', 'e', 'p'}));
}

TEST(Recording, MissingFileErrorNamesIt) {
  TempDir dir;
  const auto path = dir.file("missing.swr");
  try {
    RecordingReader::open(path);
    FAIL();
  } catch (const RecordingError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(Recording, SampleBlockWithUnknownFieldsIsKeptExactly) {
  // A newer device may send fields this build does not know; replay must give them back.
  proto::DeviceMessage known;
  std::mt19937 rng(12);
  known = sample_message(1, 3, 120, 60'000, 40, 8, rng);
  std::string wire = known.SerializeAsString();
  wire += std::string("\x98\x06\x01", 3);  // field 99, varint 1, in DeviceMessage
  proto::DeviceMessage with_unknown;
  ASSERT_TRUE(with_unknown.ParseFromString(wire));

  TempDir dir;
  const auto path = dir.file("unknown_fields.swr");
  write_recording(path, {message_event(5, with_unknown)});
  auto reader = RecordingReader::open(path);
  FrameEvent got;
  ASSERT_TRUE(reader->next(got));
  EXPECT_EQ(got.message->SerializeAsString(), with_unknown.SerializeAsString());
}

// Live-like stream: 8-channel 2 kHz EMG in 20 ms blocks, 3-channel 100 Hz accelerometer, a status
// message a second, host receive times with jitter.
std::vector<OwnedEvent> live_like_session(double seconds, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> jitter(0, 300'000);
  std::vector<OwnedEvent> events;
  std::int64_t t0 = 1'700'000'000'000'000'000;
  events.push_back(link_event(FrameEventKind::connected, t0));
  events.push_back(message_event(t0 + 1'000'000, hello_message()));
  const auto blocks = static_cast<std::uint32_t>(seconds * 50);
  for (std::uint32_t k = 0; k < blocks; ++k) {
    const std::int64_t t = t0 + 5'000'000 + 20'000'000LL * k + static_cast<std::int64_t>(jitter(rng));
    events.push_back(
        message_event(t, sample_message(1, k, 40ull * k, 1'000'000 + 20'000ull * k, 40, 8, rng)));
    if (k % 10 == 0) {
      events.push_back(message_event(
          t + 1000, sample_message(2, k / 10, 20ull * k / 10, 1'000'000 + 20'000ull * k, 20, 3, rng, 500)));
    }
    if (k % 50 == 0) {
      proto::DeviceMessage status;
      status.mutable_status()->set_device_time_us(1'000'000 + 20'000ull * k);
      status.mutable_status()->set_battery_percent(90);
      events.push_back(message_event(t + 2000, status));
    }
  }
  return events;
}

TEST(Recording, LiveLikeEmgStreamTakesUnderOneAndAHalfBytesPerSample) {
  TempDir dir;
  const auto events = live_like_session(60, 13);
  const auto path = dir.file("live.swr");
  auto writer = RecordingWriter::create(path, test_info());
  for (const auto& e : events) writer->append(e.view());
  writer->close();
  const double per_sample =
      static_cast<double>(writer->bytes_written()) / static_cast<double>(writer->samples_written());
  std::printf("[ figure   ] live-like recording: %llu samples, %llu bytes, %.3f bytes/sample\n",
              static_cast<unsigned long long>(writer->samples_written()),
              static_cast<unsigned long long>(writer->bytes_written()), per_sample);
  EXPECT_LE(per_sample, 1.5);
}

TEST(Recording, LargeFileIsReadAcrossChunkBoundaries) {
  // About 9 MB: several read chunks, records straddling their boundaries.
  TempDir dir;
  const auto events = live_like_session(1000, 14);
  const auto path = dir.file("large.swr");
  write_recording(path, events);
  ASSERT_GT(std::filesystem::file_size(path), 8u << 20);
  auto reader = RecordingReader::open(path);
  FrameEvent got;
  std::size_t n = 0;
  while (reader->next(got)) {
    ASSERT_LT(n, events.size());
    expect_same_event(got, events[n].view(), n);
    ++n;
  }
  EXPECT_EQ(n, events.size());
  EXPECT_EQ(reader->end(), ReadEnd::clean) << reader->end_message();
}

TEST(Recording, WritingAndReadingDoNotAllocatePerRecord) {
  TempDir dir;
  const auto path = dir.file("alloc.swr");
  std::mt19937 rng(15);
  proto::DeviceMessage message = sample_message(1, 0, 0, 0, 40, 8, rng);
  proto::DeviceMessage status;
  status.mutable_status()->set_battery_percent(50);
  auto* block = message.mutable_samples();
  FrameEvent event;
  event.message = &message;
  FrameEvent status_event;
  status_event.message = &status;
  const auto append_block = [&](RecordingWriter& writer, std::uint32_t k) {
    block->set_sequence(k);
    block->set_first_sample_index(40ull * k);
    block->set_device_time_us(20'000ull * k);
    for (int i = 0; i < block->samples_size(); ++i)
      block->set_samples(i,
                         static_cast<std::int32_t>((k * 31 + static_cast<std::uint32_t>(i) * 17) % 97) - 48);
    event.host_time_ns = 20'000'000LL * k;
    writer.append(event);
    if (k % 50 == 0) {
      status_event.host_time_ns = event.host_time_ns + 1;
      writer.append(status_event);
    }
  };
  {
    auto writer = RecordingWriter::create(path, test_info());
    for (std::uint32_t k = 0; k < 200; ++k) append_block(*writer, k);  // warm up
    const auto before = testing::allocation_count();
    for (std::uint32_t k = 200; k < 20'000; ++k) append_block(*writer, k);  // passes auto-flush
    EXPECT_EQ(testing::allocation_count() - before, 0u) << "writer allocated in steady state";
    writer->close();
  }
  auto reader = RecordingReader::open(path);
  FrameEvent got;
  const std::size_t records = 20'000 + 400;  // blocks and statuses
  for (int i = 0; i < 200; ++i) ASSERT_TRUE(reader->next(got));
  const auto before = testing::allocation_count();
  std::size_t n = 200;
  while (n < records && reader->next(got)) ++n;
  EXPECT_EQ(testing::allocation_count() - before, 0u) << "reader allocated in steady state";
  EXPECT_EQ(n, records);
  EXPECT_FALSE(reader->next(got));
  EXPECT_EQ(reader->end(), ReadEnd::clean);
}

}  // namespace
}  // namespace spasmwatch::record
