#include "store/store_writer.hpp"

namespace spasmwatch::store {

StoreWriter::StoreWriter(const std::filesystem::path& path, const Clock& clock, Options options)
    : options_(options),
      store_(Store::open(path, clock,
                         Store::Options{.read_only = false, .busy_timeout_ms = options.busy_timeout_ms})),
      clock_(clock) {
  if (options_.queue_capacity == 0) options_.queue_capacity = 1;
  if (options_.max_batch_ops == 0) options_.max_batch_ops = 1;
  thread_ = std::jthread([this](const std::stop_token& stop) { run(stop); });
}

StoreWriter::~StoreWriter() {
  stop();
}

void StoreWriter::stop() {
  {
    std::scoped_lock lock(mutex_);
    accepting_ = false;
  }
  not_full_.notify_all();  // submitters waiting for room give up
  thread_.request_stop();  // wakes the writer; it drains the queue before it returns
  if (thread_.joinable()) thread_.join();
}

StoreWriter::Stats StoreWriter::stats() const {
  std::scoped_lock lock(mutex_);
  return stats_;
}

void StoreWriter::enqueue(std::unique_ptr<detail::PendingOperation> operation) {
  {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return !accepting_ || queue_.size() < options_.queue_capacity; });
    if (accepting_) {
      queue_.push_back(std::move(operation));
      lock.unlock();
      not_empty_.notify_one();
      return;
    }
  }
  operation->fail(std::make_exception_ptr(
      StoreError("store " + store_.path().string() + ": the store writer has stopped; nothing was written")));
}

// The next queued operation; with `wait`, blocks until there is one or stop is requested (then
// returns null only once the queue is empty).
std::unique_ptr<detail::PendingOperation> StoreWriter::take(const std::stop_token& stop, bool wait) {
  std::unique_lock lock(mutex_);
  if (wait) not_empty_.wait(lock, stop, [&] { return !queue_.empty(); });
  if (queue_.empty()) return nullptr;
  auto operation = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  return operation;
}

void StoreWriter::run(const std::stop_token& stop) {
  std::vector<std::unique_ptr<detail::PendingOperation>> batch;
  batch.reserve(options_.max_batch_ops);
  while (auto first = take(stop, true)) {
    batch.clear();
    batch.push_back(std::move(first));
    std::exception_ptr batch_error;
    std::uint64_t failed_alone = 0;
    try {
      auto transaction = store_.transaction();
      const std::int64_t batch_start_ns = clock_.steady_ns();
      for (std::size_t i = 0;; ++i) {
        {
          auto savepoint = store_.savepoint();
          if (batch[i]->apply(store_)) {
            savepoint.release();
          } else {
            ++failed_alone;  // the savepoint rolls back whatever it wrote
          }
        }
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction.
        if (!store_.in_transaction()) {
          throw StoreError("store " + store_.path().string() + ": transaction rolled back by an error");
        }
        if (batch.size() >= options_.max_batch_ops) break;
        if (clock_.steady_ns() - batch_start_ns >= options_.max_batch_ns) break;
        auto next = take(stop, false);
        if (!next) break;
        batch.push_back(std::move(next));
      }
      transaction.commit();
    } catch (...) {
      batch_error = std::current_exception();  // BEGIN, SAVEPOINT or COMMIT failed: nothing committed
    }
    {
      // Counted before the acknowledgements, so that a caller holding an ack sees it counted.
      const std::uint64_t failed = batch_error ? batch.size() : failed_alone;
      std::scoped_lock lock(mutex_);
      if (!batch_error) ++stats_.transactions;
      stats_.operations += batch.size() - failed;
      stats_.failed += failed;
    }
    for (auto& operation : batch) {
      if (batch_error) {
        operation->fail(batch_error);
      } else {
        operation->acknowledge();
      }
    }
  }
}

std::future<std::string> StoreWriter::put_event(proto::Event event) {
  return submit([event = std::move(event)](Store& store) { return store.put_event(event); });
}

std::future<std::string> StoreWriter::put_annotation(proto::Annotation annotation) {
  return submit(
      [annotation = std::move(annotation)](Store& store) { return store.put_annotation(annotation); });
}

std::future<void> StoreWriter::update_annotation(proto::Annotation annotation) {
  return submit([annotation = std::move(annotation)](Store& store) { store.update_annotation(annotation); });
}

std::future<bool> StoreWriter::retract_event(std::string id) {
  return submit([id = std::move(id)](Store& store) { return store.retract_event(id); });
}

std::future<bool> StoreWriter::delete_annotation(std::string id) {
  return submit([id = std::move(id)](Store& store) { return store.delete_annotation(id); });
}

std::future<void> StoreWriter::put_device(DeviceRecord device) {
  return submit([device = std::move(device)](Store& store) { store.put_device(device); });
}

std::future<void> StoreWriter::put_session(SessionRecord session) {
  return submit([session = std::move(session)](Store& store) { store.put_session(session); });
}

std::future<void> StoreWriter::put_gap(GapRecord gap) {
  return submit([gap = std::move(gap)](Store& store) { store.put_gap(gap); });
}

std::future<void> StoreWriter::put_signal_quality(SignalQualityRecord quality) {
  return submit([quality = std::move(quality)](Store& store) { store.put_signal_quality(quality); });
}

}  // namespace spasmwatch::store
