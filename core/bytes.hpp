// ByteWriter / ByteReader: plain values, strings and arrays of trivially copyable elements as
// bytes, for results handed from a child process to its parent (core::run_in_child). Both ends
// are the same build on the same machine, so native byte order and widths are fine.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"

namespace tessera::core {

class ByteWriter {
 public:
  void u64(uint64_t v) { out_.append(reinterpret_cast<const char*>(&v), sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    out_ += s;
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    u64(v.size());
    if (!v.empty())  // an empty vector's data() may be null, which append's memcpy must not get
      out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  uint64_t u64() {
    uint64_t v = 0;
    bytes(&v, sizeof v);
    return v;
  }
  std::string str() {
    std::string s(count(1), '\0');
    bytes(s.data(), s.size());
    return s;
  }
  template <class T>
  std::vector<T> vec() {
    std::vector<T> v(count(sizeof(T)));
    bytes(v.data(), v.size() * sizeof(T));
    return v;
  }

 private:
  size_t count(size_t element) {
    const uint64_t n = u64();
    if (n > (in_.size() - at_) / element) throw Error("truncated reply from a child process");
    return static_cast<size_t>(n);
  }
  void bytes(void* dst, size_t n) {
    if (n == 0) return;  // an empty vector's data() may be null, which memcpy must not get
    if (n > in_.size() - at_) throw Error("truncated reply from a child process");
    std::memcpy(dst, in_.data() + at_, n);
    at_ += n;
  }
  const std::string& in_;
  size_t at_ = 0;
};

}  // namespace tessera::core
