#include "store/store_writer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "store/store_test_support.hpp"

namespace spasmwatch::store {
namespace {

using namespace std::chrono_literals;
using testing::kBaseUtcNs;

// Holds the writer thread inside its current batch until released.
class Gate {
 public:
  // An operation that signals when the writer runs it and then waits for open().
  auto operation() {
    return [this](Store&) {
      entered_.set_value();
      opened_.wait();
    };
  }
  void wait_entered() { entered_future_.wait(); }
  void open() { open_.set_value(); }

 private:
  std::promise<void> entered_;
  std::future<void> entered_future_ = entered_.get_future();
  std::promise<void> open_;
  std::shared_future<void> opened_ = open_.get_future().share();
};

class StoreWriterTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  FakeClock clock_{kBaseUtcNs};
  std::filesystem::path db_path_ = dir_ / "w.db";
};

TEST_F(StoreWriterTest, BatchesManyOperationsIntoFewTransactions) {
  StoreWriter writer(db_path_, clock_, {.queue_capacity = 2000});
  Gate gate;
  auto first = writer.submit(gate.operation());
  gate.wait_entered();  // the writer is inside its first transaction
  std::vector<std::future<std::string>> acks;
  acks.reserve(1000);
  for (int i = 0; i < 1000; ++i)
    acks.push_back(writer.put_annotation(testing::make_note(kBaseUtcNs + i, "n")));
  gate.open();
  for (auto& ack : acks) EXPECT_EQ(ack.get().size(), 36u);
  first.get();
  // 1001 operations at most 256 per transaction (the fake clock never reaches the 20 ms bound).
  const StoreWriter::Stats stats = writer.stats();
  EXPECT_EQ(stats.transactions, 4u);
  EXPECT_EQ(stats.operations, 1001u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST_F(StoreWriterTest, AcknowledgesOnlyAfterTheTransactionCommitted) {
  StoreWriter writer(db_path_, clock_);
  Store reader = Store::open(db_path_, clock_, {.read_only = true});
  Gate hold_first;
  Gate hold_last;
  auto first = writer.submit(hold_first.operation());
  hold_first.wait_entered();
  auto note = writer.put_annotation(testing::make_note(kBaseUtcNs, "written, not yet committed"));
  auto last = writer.submit(hold_last.operation());
  hold_first.open();
  hold_last.wait_entered();  // the note is now written inside the still open transaction

  EXPECT_EQ(note.wait_for(50ms), std::future_status::timeout);
  EXPECT_EQ(reader.counts().annotations(), 0u);

  hold_last.open();
  const std::string id = note.get();
  EXPECT_TRUE(reader.get_annotation(id).has_value());  // acknowledged means committed and visible
  first.get();
  last.get();
}

TEST_F(StoreWriterTest, ConcurrentReaderSeesCommittedDataWhileTheWriterWrites) {
  StoreWriter writer(db_path_, clock_);
  std::atomic<bool> reader_ok{true};
  std::atomic<std::uint64_t> reads{0};
  {
    std::jthread background([&](const std::stop_token& stop) {
      Store reader = Store::open(db_path_, clock_, {.read_only = true});
      std::uint64_t last_seen = 0;
      while (!stop.stop_requested()) {
        const std::uint64_t seen = reader.counts().annotations();
        if (seen < last_seen) reader_ok = false;  // committed data never disappears
        last_seen = seen;
        ++reads;
      }
    });
    Store reader = Store::open(db_path_, clock_, {.read_only = true});
    for (int i = 0; i < 200; ++i) {
      const std::string id = writer.put_annotation(testing::make_note(kBaseUtcNs + i, "seen?")).get();
      ASSERT_TRUE(reader.get_annotation(id).has_value()) << "acknowledged note " << i << " not visible";
    }
  }
  EXPECT_TRUE(reader_ok);
  EXPECT_GT(reads.load(), 0u);
}

TEST_F(StoreWriterTest, AFailedOperationFailsAloneInItsBatch) {
  StoreWriter writer(db_path_, clock_);
  Gate gate;
  auto first = writer.submit(gate.operation());
  gate.wait_entered();
  auto good1 = writer.put_annotation(testing::make_note(kBaseUtcNs, "good"));
  auto bad = writer.put_annotation(testing::make_symptom(kBaseUtcNs, 42));
  auto partial = writer.submit([](Store& store) {
    store.put_annotation(testing::make_note(kBaseUtcNs, "rolled back with its operation"));
    throw std::runtime_error("operation failed half-way");
  });
  auto good2 = writer.put_annotation(testing::make_note(kBaseUtcNs, "good too"));
  gate.open();
  EXPECT_NO_THROW(good1.get());
  EXPECT_NO_THROW(good2.get());
  try {
    bad.get();
    ADD_FAILURE() << "pain 42 accepted";
  } catch (const ValidationError& error) {
    EXPECT_EQ(error.field(), "symptom.pain");
  }
  EXPECT_THROW(partial.get(), std::runtime_error);
  first.get();
  writer.stop();
  EXPECT_EQ(writer.stats().transactions, 1u);
  EXPECT_EQ(writer.stats().failed, 2u);
  Store store = Store::open(db_path_, clock_);
  EXPECT_EQ(store.counts().annotations(), 2u);
}

TEST_F(StoreWriterTest, StopWritesEverythingQueuedAndRefusesLaterOperations) {
  std::vector<std::future<std::string>> acks;
  {
    StoreWriter writer(db_path_, clock_);
    Gate gate;
    auto first = writer.submit(gate.operation());
    gate.wait_entered();
    for (int i = 0; i < 300; ++i)
      acks.push_back(writer.put_annotation(testing::make_note(kBaseUtcNs + i, "q")));
    gate.open();
    writer.stop();
    for (auto& ack : acks) EXPECT_EQ(ack.wait_for(0s), std::future_status::ready);
    auto late = writer.put_annotation(testing::make_note(kBaseUtcNs, "too late"));
    EXPECT_THROW(late.get(), StoreError);
  }
  Store store = Store::open(db_path_, clock_);
  EXPECT_EQ(store.counts().annotations(), 300u);
  for (auto& ack : acks) EXPECT_TRUE(store.get_annotation(ack.get()).has_value());
}

TEST_F(StoreWriterTest, OpeningErrorsSurfaceInTheConstructor) {
  { Store store = Store::open(dir_ / "plain", clock_); }  // a file where a directory is expected
  try {
    StoreWriter writer(dir_ / "plain" / "x.db", clock_);
    ADD_FAILURE() << "opened a store below a regular file";
  } catch (const StoreError& error) {
    EXPECT_NE(std::string(error.what()).find("plain"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace spasmwatch::store
