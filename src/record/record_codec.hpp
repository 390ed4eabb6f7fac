// Records of a recording file: FrameEvent <-> length-prefixed, CRC-checked bytes. The pure core of
// RecordingWriter and RecordingReader (which add only the file I/O). FORMAT.md is the reference
// for every byte written here.
//
// Both sides keep the same prediction state (last host time, and per stream the last block's
// sequence, indices and device time), updated identically record by record, so most fields are
// stored as small differences from their prediction. A reader must therefore see the records in
// order from the first one; the state never depends on anything but earlier records.
//
// Neither class allocates in steady state: the encoder reuses its scratch buffer and appends into
// the caller's buffer; the decoder reuses its messages (RepeatedField keeps its capacity).
//
// Thread rules: one encoder per file being written, one decoder per file being read.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "device.pb.h"
#include "protocol/message_codec.hpp"

namespace spasmwatch::record::detail {

inline constexpr std::size_t kMaxRecordBodyBytes = std::size_t{16} << 20;
// Length varint (at most 4 bytes for 16 MiB) + type + header check.
inline constexpr std::size_t kMaxRecordHeaderBytes = 6;
inline constexpr std::size_t kRecordCrcBytes = 4;

enum class RecordType : std::uint8_t {
  samples = 0x01,     // a SampleBlock message, fields delta-coded, samples by the sample codec
  message = 0x02,     // any other DeviceMessage, as its protobuf bytes
  link_event = 0x03,  // bad_frame, connected, disconnected, ping_sent
};
// Types from here up may be skipped by readers that do not know them (added in minor versions).
inline constexpr std::uint8_t kFirstSkippableType = 0x80;

// Prediction state of the sample streams: slot = stream_id % kStreamSlots; a slot holding another
// stream (or none) predicts from zero. Bounded and O(1) whatever the stream ids are.
inline constexpr std::size_t kStreamSlots = 16;

struct StreamSlot {
  bool used = false;
  std::uint32_t stream_id = 0;
  std::uint32_t next_sequence = 0;
  std::uint64_t next_first_index = 0;
  std::uint64_t device_time_us = 0;
  std::uint64_t device_step_us = 0;
  std::uint32_t time_points = 0;
  std::uint64_t channels = 0;
};

class StreamPredictor {
 public:
  // The slot's state if it holds `stream_id`, else a zero state (for prediction only).
  [[nodiscard]] StreamSlot predict(std::uint32_t stream_id) const;
  void update(const proto::SampleBlock& block);
  void reset() { slots_ = {}; }

 private:
  std::array<StreamSlot, kStreamSlots> slots_{};
};

class RecordEncoder {
 public:
  RecordEncoder();

  // Appends the record of `event` to `out`. Returns false (appending nothing) when the event's
  // message is too large for one record. Throws std::invalid_argument for a message event without
  // a message (a caller bug).
  [[nodiscard]] bool encode(const protocol::FrameEvent& event, std::vector<std::uint8_t>& out);

  // Number of samples in the last encoded event (0 unless it carried a SampleBlock).
  [[nodiscard]] std::size_t last_samples() const { return last_samples_; }

 private:
  std::size_t encode_samples_body(const protocol::FrameEvent& event);
  std::size_t encode_message_body(const protocol::FrameEvent& event);
  std::size_t encode_link_body(const protocol::FrameEvent& event);
  std::uint8_t* reserve_body(std::size_t bytes);

  std::vector<std::uint8_t> body_;
  StreamPredictor streams_;
  std::int64_t last_host_time_ns_ = 0;
  std::size_t last_samples_ = 0;
};

// Where the record at the front of some bytes stands.
struct RecordFrame {
  enum class Status : std::uint8_t { complete, need_more, corrupt };
  Status status = Status::need_more;
  std::size_t size = 0;      // complete: the record's bytes; need_more: bytes needed to go on
  std::string_view problem;  // corrupt: what is wrong
};

// Checks the header, length and CRC of the record starting at `bytes[0]`. `need_more` asks for
// more bytes than `bytes` holds; when no more exist, the record is truncated.
[[nodiscard]] RecordFrame frame_record(std::span<const std::uint8_t> bytes);

class RecordDecoder {
 public:
  enum class Result : std::uint8_t { event, skipped, malformed };

  RecordDecoder();

  // Decodes one complete record (as framed by frame_record). On `event`, fills `event` (its message
  // points into this decoder, valid until the next call). On `malformed`, problem() says why.
  [[nodiscard]] Result decode(std::span<const std::uint8_t> record, protocol::FrameEvent& event);
  [[nodiscard]] std::string_view problem() const { return problem_; }

 private:
  Result fail(std::string_view problem);
  Result decode_samples_body(std::span<const std::uint8_t> body, protocol::FrameEvent& event);
  Result decode_message_body(std::span<const std::uint8_t> body, protocol::FrameEvent& event);
  Result decode_link_body(std::span<const std::uint8_t> body, protocol::FrameEvent& event);
  proto::DeviceMessage* parse_reusing(std::span<const std::uint8_t> bytes);

  // One message per body kind, so alternating kinds never free and reallocate a body (clearing a
  // oneof deletes its sub-message): [0] for anything unusual, [n] for body field n.
  proto::DeviceMessage samples_message_;
  std::array<proto::DeviceMessage, 6> messages_;
  StreamPredictor streams_;
  std::int64_t last_host_time_ns_ = 0;
  std::string_view problem_;
};

}  // namespace spasmwatch::record::detail
