// A growable FIFO ring buffer: push at the back, pop at the front, index from the front. Unlike
// std::deque it allocates only when it must grow (doubling), never in steady state.
// Thread rules: not thread-safe.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace spasmwatch {

template <class T>
class RingBuffer {
 public:
  explicit RingBuffer(std::size_t initial_capacity = 64) : items_(initial_capacity == 0 ? 1 : initial_capacity) {}

  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] std::size_t size() const { return size_; }
  void clear() {
    head_ = 0;
    size_ = 0;
  }

  void push_back(const T& value) {
    if (size_ == items_.size()) grow();
    items_[(head_ + size_) % items_.size()] = value;
    ++size_;
  }
  void pop_front() {
    head_ = (head_ + 1) % items_.size();
    --size_;
  }
  [[nodiscard]] T& front() { return items_[head_]; }
  [[nodiscard]] const T& front() const { return items_[head_]; }
  [[nodiscard]] const T& back() const { return items_[(head_ + size_ - 1) % items_.size()]; }
  // i-th item from the front.
  [[nodiscard]] const T& operator[](std::size_t i) const { return items_[(head_ + i) % items_.size()]; }

 private:
  void grow() {
    std::vector<T> bigger(items_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i) bigger[i] = std::move(items_[(head_ + i) % items_.size()]);
    items_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> items_;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace spasmwatch
