#include "corpus/generator.h"

#include <array>
#include <span>
#include <string_view>
#include <utility>

#include "corpus/engine.h"
#include "corpus/templates.h"

namespace logclf::corpus {

namespace {

using detail::LineContext;
using detail::Pool;
using detail::Rng;
using detail::Template;
using sv = std::string_view;

struct LabelSpec {
  sv name;
  int permille;  // share of the corpus
  std::span<const Template> templates;
  std::span<const sv> levels;  // severities used when the message is put into a log format
};

constexpr sv kHttpLevels[] = {"INFO", "INFO", "DEBUG", "NOTICE"};
constexpr sv kSecurityLevels[] = {"WARN", "WARNING", "ALERT", "NOTICE", "ERROR", "SECURITY"};
constexpr sv kNotificationLevels[] = {"INFO", "INFO", "NOTICE"};
constexpr sv kErrorLevels[] = {"ERROR", "ERROR", "WARN", "ERR"};
constexpr sv kCriticalLevels[] = {"CRITICAL", "FATAL", "EMERG", "ALERT", "ERROR", "CRIT"};
constexpr sv kResourceLevels[] = {"INFO", "WARN", "DEBUG", "NOTICE"};
constexpr sv kUserLevels[] = {"INFO", "AUDIT", "NOTICE"};
constexpr sv kWorkflowLevels[] = {"ERROR", "WARN", "ERROR"};
constexpr sv kDeprecationLevels[] = {"WARN", "WARNING", "NOTICE", "INFO"};

// The label mix over-represents the classes that are rare in real logs, so that the head learns them.
const std::array<LabelSpec, 9>& label_specs() {
  static const std::array<LabelSpec, 9> specs = {{
      {"HTTP Status", 200, detail::http_status_templates(), kHttpLevels},
      {"Security Alert", 130, detail::security_alert_templates(), kSecurityLevels},
      {"System Notification", 120, detail::system_notification_templates(), kNotificationLevels},
      {"Error", 110, detail::error_templates(), kErrorLevels},
      {"Critical Error", 100, detail::critical_error_templates(), kCriticalLevels},
      {"Resource Usage", 90, detail::resource_usage_templates(), kResourceLevels},
      {"User Action", 90, detail::user_action_templates(), kUserLevels},
      {"Workflow Error", 80, detail::workflow_error_templates(), kWorkflowLevels},
      {"Deprecation Warning", 80, detail::deprecation_warning_templates(), kDeprecationLevels},
  }};
  return specs;
}

const Template& pick_template(std::span<const Template> templates, Rng& rng) {
  std::uint64_t total = 0;
  for (const auto& t : templates) total += t.weight;
  std::uint64_t r = rng.below(total);
  for (const auto& t : templates) {
    if (r < t.weight) return t;
    r -= t.weight;
  }
  return templates.back();
}

// ---- sources ----

constexpr sv kAppSources[] = {
    "ModernCRM",   "ModernCRM",   "ModernCRM",   "BillingSystem", "BillingSystem", "BillingSystem",
    "AnalyticsEngine", "AnalyticsEngine", "AnalyticsEngine", "ModernHR", "ModernHR", "ModernHR",
    "ThirdPartyAPI", "ThirdPartyAPI", "ThirdPartyAPI", "payments", "auth-service", "inventory-service",
    "order-service", "notification-service", "ERP-Core", "CustomerPortal", "SupportDesk", "MarketingHub",
    "data-pipeline", "reporting"};
constexpr sv kLegacySources[] = {"LegacyCRM", "LegacyCRM", "LegacyCRM", "LegacyCRM", "LegacyCRM", "LegacyCRM",
                                 "LegacyCRM", "LegacyCRM", "LegacyERP", "OldBillingSystem", "CRM-Classic",
                                 "LegacyHR"};
constexpr sv kNovaApiSources[] = {"nova-api"};
constexpr sv kNovaComputeSources[] = {"nova-compute"};
constexpr sv kOpenStackSources[] = {"neutron-server", "glance-api", "cinder-api", "keystone", "nova-conductor"};
constexpr sv kWebSources[] = {"nginx", "nginx", "apache", "httpd", "haproxy", "envoy", "api-gateway", "traefik", "iis"};
constexpr sv kSshdSources[] = {"sshd", "sshd", "sshd", "sshd", "auth", "secure"};
constexpr sv kHostSources[] = {"kernel", "systemd", "cron", "syslog", "linux-host"};
constexpr sv kHdfsSources[] = {"hdfs-datanode", "hdfs-datanode", "hdfs-namenode"};
constexpr sv kSecToolSources[] = {"auth-service", "WAF", "suricata", "fail2ban", "IDS", "SIEM"};
constexpr sv kMonitorSources[] = {"node-exporter", "monitoring-agent", "zabbix-agent", "prometheus", "collectd"};

// Business applications also ship infrastructure-format lines, so every pool lends some lines to them.
sv pick_source(Pool pool, Rng& rng) {
  const auto from = [&](std::span<const sv> own, double app_share) {
    return rng.chance(app_share) ? rng.pick(kAppSources) : rng.pick(own);
  };
  switch (pool) {
    case Pool::app: return rng.pick(kAppSources);
    case Pool::legacy: return from(kLegacySources, 0.15);
    case Pool::nova_api: return from(kNovaApiSources, 0.4);
    case Pool::nova_compute: return from(kNovaComputeSources, 0.4);
    case Pool::openstack: return from(kOpenStackSources, 0.35);
    case Pool::web: return from(kWebSources, 0.35);
    case Pool::sshd: return from(kSshdSources, 0.1);
    case Pool::host: return from(kHostSources, 0.3);
    case Pool::hdfs: return from(kHdfsSources, 0.2);
    case Pool::sec_tool: return from(kSecToolSources, 0.4);
    case Pool::monitor: return from(kMonitorSources, 0.5);
  }
  return kAppSources[0];
}

// "ModernCRM" -> "modern-crm", the program name a service would log under.
std::string program_name(sv source) {
  std::string out;
  for (std::size_t i = 0; i < source.size(); ++i) {
    const char c = source[i];
    const bool upper = c >= 'A' && c <= 'Z';
    if (upper && i > 0 && source[i - 1] >= 'a' && source[i - 1] <= 'z') out += '-';
    out += upper ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

std::string lower(sv s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

void append_escaped(std::string& out, sv text) {
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
}

// ---- log formats around bare messages ----

constexpr sv kTrailers[] = {"host={$host}",         "request_id={$hex:16}", "trace_id={$hex:32}",
                            "env={prod|staging|qa}", "region={eu-west-1|us-east-1|ap-south-1}",
                            "tenant={acme|globex|initech|umbrella}", "pid={$pid}",
                            "thread={main|worker-{$n:1:16}}", "version={$ver3}"};
constexpr sv kThreads[] = {"main", "pool-{$n:1:4}-thread-{$n:1:32}", "http-nio-8080-exec-{$n:1:64}",
                           "scheduler-{$n:1:4}", "worker-{$n:1:16}"};
constexpr sv kLoggerTail[] = {"core.Main", "service.Handler", "worker.Processor", "api.Controller",
                              "jobs.Scheduler", "service.Manager", "sync.Runner"};
constexpr sv kPyModuleTail[] = {"tasks", "core", "service", "worker", "views", "jobs"};

std::string expand_text(sv tpl, Rng& rng, LineContext& ctx) {
  std::string s;
  detail::expand(tpl, rng, ctx, s);
  return s;
}

void append_iso(std::string& out, const detail::CivilTime& t) {
  detail::append_int(out, t.year, 4);
  out += '-';
  detail::append_int(out, t.month, 2);
  out += '-';
  detail::append_int(out, t.day, 2);
  out += 'T';
  detail::append_int(out, t.hour, 2);
  out += ':';
  detail::append_int(out, t.minute, 2);
  out += ':';
  detail::append_int(out, t.second, 2);
}

void append_plain_time(std::string& out, const detail::CivilTime& t, Rng& rng) {
  std::string iso;
  append_iso(iso, t);
  iso[10] = ' ';
  out += iso;
  out += ',';
  detail::append_int(out, rng.between(0, 999), 3);
}

std::string wrap(std::string msg, const LabelSpec& spec, sv source, Rng& rng, LineContext& ctx) {
  const sv level = rng.pick(spec.levels);
  const std::string program = program_name(source);
  const detail::CivilTime t = detail::to_civil(ctx.epoch);
  std::string out;
  const std::uint64_t style = rng.below(100);
  if (style < 46) return msg;
  if (style < 54) {  // message followed by key=value context
    out = std::move(msg);
    const sv separator = rng.chance(0.7) ? sv(" ") : sv(" | ");
    // Up to three distinct keys: a run of consecutive entries from a random start.
    const std::size_t first = rng.below(std::size(kTrailers));
    for (std::size_t i = 0, n = 1 + rng.below(3); i < n; ++i) {
      out += i == 0 ? separator : sv(" ");
      detail::expand(kTrailers[(first + i) % std::size(kTrailers)], rng, ctx, out);
    }
  } else if (style < 61) {  // ISO time, host, program[pid]: LEVEL message
    append_iso(out, t);
    out += "Z ";
    out += expand_text("{$host} ", rng, ctx);
    out += program;
    out += expand_text("[{$pid}]: ", rng, ctx);
    out += level;
    out += ' ';
    out += msg;
  } else if (style < 67) {  // classic syslog
    out += expand_text("{$sysprefix}", rng, ctx);
    out += program;
    out += expand_text("[{$pid}]: ", rng, ctx);
    out += msg;
  } else if (style < 73) {  // [LEVEL] program: message
    out += '[';
    out += level;
    out += "] ";
    out += program;
    out += ": ";
    out += msg;
  } else if (style < 79) {  // Java / logback
    append_plain_time(out, t, rng);
    out += ' ';
    out += level;
    out += " [";
    detail::expand(rng.pick(kThreads), rng, ctx, out);
    out += "] com.";
    for (const char c : program) {
      if (c != '-') out += c;
    }
    out += '.';
    out += rng.pick(kLoggerTail);
    out += " - ";
    out += msg;
  } else if (style < 84) {  // Python logging
    append_plain_time(out, t, rng);
    out += " - ";
    for (const char c : program) out += c == '-' ? '_' : c;
    out += '.';
    out += rng.pick(kPyModuleTail);
    out += " - ";
    out += level;
    out += " - ";
    out += msg;
  } else if (style < 89) {  // logfmt
    out += "ts=";
    append_iso(out, t);
    out += "Z level=";
    out += lower(level);
    out += " app=";
    out += program;
    out += " msg=\"";
    append_escaped(out, msg);
    out += '"';
  } else if (style < 95) {  // JSON
    out += rng.chance(0.5) ? "{\"timestamp\":\"" : "{\"@timestamp\":\"";
    append_iso(out, t);
    out += rng.chance(0.5) ? "Z\",\"level\":\"" : "Z\",\"severity\":\"";
    out += rng.chance(0.5) ? std::string(level) : lower(level);
    out += rng.chance(0.5) ? "\",\"service\":\"" : "\",\"logger\":\"";
    out += program;
    out += rng.chance(0.5) ? "\",\"message\":\"" : "\",\"msg\":\"";
    append_escaped(out, msg);
    out += "\"}";
  } else {  // LEVEL: message
    out += level;
    out += rng.chance(0.5) ? ": " : " ";
    out += msg;
  }
  return out;
}

// ---- the timestamp column, in the mix of formats found in exported log tables ----

constexpr std::int64_t kFirstEpoch = 1704067200;  // 2024-01-01T00:00:00Z
constexpr std::int64_t kEpochSpan = 2 * 365 * 86400;

std::string timestamp_text(std::int64_t epoch, Rng& rng) {
  const detail::CivilTime t = detail::to_civil(epoch);
  std::string out;
  const std::uint64_t style = rng.below(100);
  if (style < 50) {  // 2025-06-27 07:20:25, sometimes with an unpadded hour
    append_iso(out, t);
    out[10] = ' ';
    if (style >= 35 && t.hour < 10) out.erase(11, 1);
  } else if (style < 75) {  // 1/14/2025 23:07
    detail::append_int(out, t.month);
    out += '/';
    detail::append_int(out, t.day);
    out += '/';
    detail::append_int(out, t.year);
    out += ' ';
    detail::append_int(out, t.hour);
    out += ':';
    detail::append_int(out, t.minute, 2);
  } else if (style < 90) {
    append_iso(out, t);
    out += 'Z';
  } else {
    append_iso(out, t);
    out += '.';
    detail::append_int(out, rng.between(0, 999), 3);
    out += rng.chance(0.5) ? "+00:00" : "+02:00";
  }
  return out;
}

GeneratedLine make_line(const LabelSpec& spec, Rng& rng) {
  LineContext ctx;
  ctx.epoch = kFirstEpoch + static_cast<std::int64_t>(rng.below(kEpochSpan));
  ctx.pair_key = rng.next();
  const Template& tpl = pick_template(spec.templates, rng);
  std::string message = expand_text(tpl.text, rng, ctx);
  const sv source = pick_source(tpl.pool, rng);
  if (tpl.wrap) message = wrap(std::move(message), spec, source, rng, ctx);
  return {timestamp_text(ctx.epoch, rng), std::string(source), std::move(message), std::string(spec.name)};
}

}  // namespace

const std::vector<std::string>& labels() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& spec : label_specs()) v.emplace_back(spec.name);
    return v;
  }();
  return names;
}

std::vector<GeneratedLine> generate(const GeneratorOptions& options) {
  const auto& specs = label_specs();
  Rng rng(options.seed);

  // Exact per-label counts; the rounding remainder goes to the first labels.
  std::array<std::size_t, 9> counts{};
  std::size_t assigned = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    counts[i] = options.count * static_cast<std::size_t>(specs[i].permille) / 1000;
    assigned += counts[i];
  }
  for (std::size_t i = 0; assigned < options.count; ++i, ++assigned) ++counts[i % specs.size()];

  std::vector<std::uint8_t> order;
  order.reserve(options.count);
  for (std::size_t i = 0; i < specs.size(); ++i) order.insert(order.end(), counts[i], static_cast<std::uint8_t>(i));
  rng.shuffle(order);

  std::vector<GeneratedLine> lines;
  lines.reserve(options.count);
  for (const std::uint8_t label : order) lines.push_back(make_line(specs[label], rng));
  return lines;
}

}  // namespace logclf::corpus
