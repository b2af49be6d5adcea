// A streaming XXH3-128 digest written as "xxh3-128:<32 hex digits>": the form the model bundle uses for
// the checksum of its training data and the fingerprint of the encoder's weights.
#pragma once

#include <xxhash.h>

#include <cstdio>
#include <new>
#include <string>
#include <string_view>

namespace logclf::util {

class Xxh128 {
 public:
  Xxh128() : state_(XXH3_createState()) {
    if (state_ == nullptr) throw std::bad_alloc();
    XXH3_128bits_reset(state_);
  }
  ~Xxh128() { XXH3_freeState(state_); }
  Xxh128(const Xxh128&) = delete;
  Xxh128& operator=(const Xxh128&) = delete;

  void update(const void* data, std::size_t size) { XXH3_128bits_update(state_, data, size); }
  void update(std::string_view text) { update(text.data(), text.size()); }

  std::string hex() const {
    const XXH128_hash_t hash = XXH3_128bits_digest(state_);
    char digits[33];
    std::snprintf(digits, sizeof digits, "%016llx%016llx", static_cast<unsigned long long>(hash.high64),
                  static_cast<unsigned long long>(hash.low64));
    return std::string("xxh3-128:") + digits;
  }

 private:
  XXH3_state_t* state_;
};

}  // namespace logclf::util
