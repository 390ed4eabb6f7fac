// StoreWriter: the one thread that writes the store. Callers (the daemon's I/O thread, API
// handlers) submit operations and get a std::future that becomes ready only AFTER the transaction
// holding the operation has committed (so after the WAL fsync: the write is durable), or holds the
// operation's error (ValidationError, NotFoundError, StoreError). A failed operation is rolled
// back alone (savepoint); the others in its batch still commit.
//
// Batching: the writer takes the first queued operation, opens a transaction, and keeps taking
// operations while the queue is not empty, up to max_batch_ops or max_batch_ns (measured on the
// injected clock); then it commits and acknowledges. A lone operation commits at once; under load,
// operations that queue up during one commit's fsync share the next commit.
//
// State machine: running -> stopping (stop() or destructor: no new operations; everything already
// queued is still written and acknowledged) -> stopped. Operations submitted after stop() fail
// with StoreError at once.
//
// Thread rules: submit from any thread; the queue is bounded, so submit blocks while it is full.
// Never submit from inside an operation's body (it runs on the writer thread). Readers open their
// own read-only Store on the same file.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>

#include "store/store.hpp"

namespace spasmwatch::store {

namespace detail {

class PendingOperation {
 public:
  virtual ~PendingOperation() = default;
  virtual bool apply(Store& store) noexcept = 0;             // runs the body; keeps its result or error
  virtual void acknowledge() noexcept = 0;                   // after commit: hands over result or error
  virtual void fail(std::exception_ptr error) noexcept = 0;  // not committed
};

template <class Body>
class Operation final : public PendingOperation {
 public:
  using Result = std::invoke_result_t<Body&, Store&>;

  explicit Operation(Body body) : body_(std::move(body)) {}
  std::future<Result> future() { return promise_.get_future(); }

  bool apply(Store& store) noexcept override {
    try {
      if constexpr (std::is_void_v<Result>) {
        body_(store);
      } else {
        result_.template emplace<1>(body_(store));
      }
      return true;
    } catch (...) {
      error_ = std::current_exception();
      return false;
    }
  }
  void acknowledge() noexcept override {
    if (error_) {
      promise_.set_exception(error_);
    } else if constexpr (std::is_void_v<Result>) {
      promise_.set_value();
    } else {
      promise_.set_value(std::move(std::get<1>(result_)));
    }
  }
  // An operation that failed itself reports its own error rather than the batch's.
  void fail(std::exception_ptr error) noexcept override {
    promise_.set_exception(error_ ? error_ : std::move(error));
  }

 private:
  using Stored = std::conditional_t<std::is_void_v<Result>, std::monostate, Result>;
  Body body_;
  std::promise<Result> promise_;
  std::variant<std::monostate, Stored> result_;
  std::exception_ptr error_;
};

}  // namespace detail

class StoreWriter {
 public:
  struct Options {
    std::size_t queue_capacity = 4096;
    std::size_t max_batch_ops = 256;
    std::int64_t max_batch_ns = 20'000'000;  // 20 ms
    int busy_timeout_ms = 5000;
  };

  struct Stats {
    std::uint64_t transactions = 0;  // committed
    std::uint64_t operations = 0;    // acknowledged as written (committed)
    std::uint64_t failed = 0;        // completed with an error (nothing of them written)
  };

  // Opens (creates, migrates) the store on the calling thread, so errors surface here, then starts
  // the writer thread. `clock` must outlive the writer.
  StoreWriter(const std::filesystem::path& path, const Clock& clock, Options options);
  StoreWriter(const std::filesystem::path& path, const Clock& clock) : StoreWriter(path, clock, Options{}) {}
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;
  ~StoreWriter();  // stop()

  // Runs body(Store&) on the writer thread inside the current batch (in its own savepoint).
  template <class Body>
  auto submit(Body body) -> std::future<std::invoke_result_t<Body&, Store&>> {
    auto operation = std::make_unique<detail::Operation<Body>>(std::move(body));
    auto future = operation->future();
    enqueue(std::move(operation));
    return future;
  }

  std::future<std::string> put_event(proto::Event event);
  std::future<bool> retract_event(std::string id);
  std::future<std::string> put_annotation(proto::Annotation annotation);
  std::future<void> update_annotation(proto::Annotation annotation);
  std::future<bool> delete_annotation(std::string id);
  std::future<void> put_device(DeviceRecord device);
  std::future<void> put_session(SessionRecord session);
  std::future<void> put_gap(GapRecord gap);
  std::future<void> put_signal_quality(SignalQualityRecord quality);

  // Writes and acknowledges everything queued, then ends the thread. Idempotent.
  void stop();

  [[nodiscard]] Stats stats() const;
  [[nodiscard]] const std::filesystem::path& path() const { return store_.path(); }

 private:
  void enqueue(std::unique_ptr<detail::PendingOperation> operation);
  std::unique_ptr<detail::PendingOperation> take(const std::stop_token& stop, bool wait);
  void run(const std::stop_token& stop);

  Options options_;
  Store store_;  // after construction, used only on the writer thread
  const Clock& clock_;

  mutable std::mutex mutex_;
  std::condition_variable_any not_empty_;
  std::condition_variable_any not_full_;
  std::deque<std::unique_ptr<detail::PendingOperation>> queue_;
  bool accepting_ = true;
  Stats stats_;

  std::jthread thread_;  // last: started after, and joined before, everything above
};

}  // namespace spasmwatch::store
