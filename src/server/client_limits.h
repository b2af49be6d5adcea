// Connections per client address, so that one client cannot take every connection the server allows
// (a flood of idle connections, or slowloris). Shared by the event loops, hence the lock; taken once per
// connection, not per request.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace logclf::server {

// An IPv6 address, or an IPv4 one in its IPv4-mapped IPv6 form, so that both count alike.
using ClientAddress = std::array<std::uint8_t, 16>;
ClientAddress client_address(const sockaddr_storage& address);

class ClientLimits {
 public:
  explicit ClientLimits(int per_client) : per_client_(per_client) {}
  // Counts one more connection of `client`; false (nothing counted) when it has per_client already.
  bool admit(const ClientAddress& client);
  void release(const ClientAddress& client);
  int connections(const ClientAddress& client);

 private:
  struct Hash {
    std::size_t operator()(const ClientAddress& a) const;
  };
  const int per_client_;
  std::mutex mutex_;
  std::unordered_map<ClientAddress, int, Hash> counts_;
};

}  // namespace logclf::server
