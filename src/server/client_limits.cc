#include "server/client_limits.h"

#include <netinet/in.h>

#include <cstring>

namespace logclf::server {

ClientAddress client_address(const sockaddr_storage& address) {
  ClientAddress key{};
  if (address.ss_family == AF_INET6) {
    std::memcpy(key.data(), &reinterpret_cast<const sockaddr_in6&>(address).sin6_addr, 16);
  } else if (address.ss_family == AF_INET) {
    key[10] = key[11] = 0xff;
    std::memcpy(key.data() + 12, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, 4);
  }
  return key;
}

std::size_t ClientLimits::Hash::operator()(const ClientAddress& a) const {
  std::uint64_t high, low;
  std::memcpy(&high, a.data(), 8);
  std::memcpy(&low, a.data() + 8, 8);
  return static_cast<std::size_t>((high * 0x9E3779B97F4A7C15ULL) ^ low);
}

bool ClientLimits::admit(const ClientAddress& client) {
  std::lock_guard lock(mutex_);
  int& n = counts_[client];
  if (n >= per_client_) return false;
  ++n;
  return true;
}

void ClientLimits::release(const ClientAddress& client) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(client);
  if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
}

int ClientLimits::connections(const ClientAddress& client) {
  std::lock_guard lock(mutex_);
  const auto it = counts_.find(client);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace logclf::server
