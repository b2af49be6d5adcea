// The sentence templates of the corpus, one table per label (syntax: see engine.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace logclf::corpus::detail {

// Where a line plausibly comes from; the generator maps a pool to concrete source names.
enum class Pool : std::uint8_t {
  app,           // business applications (ModernCRM, BillingSystem, ...)
  legacy,        // mostly LegacyCRM-like systems
  nova_api,      // OpenStack API services
  nova_compute,  // OpenStack compute services
  openstack,     // other OpenStack services
  web,           // web servers, proxies, gateways
  sshd,          // OpenSSH and PAM
  host,          // kernel, systemd, cron
  hdfs,          // Hadoop HDFS daemons
  sec_tool,      // IDS, WAF, fail2ban, auth gateways
  monitor,       // metrics and monitoring agents
};

// `wrap` lines are bare messages that the generator may put in a log format (syslog, JSON, ...);
// the others are already complete log lines in a software's own format.
struct Template {
  Pool pool;
  bool wrap;
  std::uint16_t weight;
  std::string_view text;
};

inline constexpr bool kWrap = true;
inline constexpr bool kLine = false;

std::span<const Template> http_status_templates();
std::span<const Template> security_alert_templates();
std::span<const Template> system_notification_templates();
std::span<const Template> error_templates();
std::span<const Template> critical_error_templates();
std::span<const Template> resource_usage_templates();
std::span<const Template> user_action_templates();
std::span<const Template> workflow_error_templates();
std::span<const Template> deprecation_warning_templates();

}  // namespace logclf::corpus::detail
