// The vocabulary slots used by the templates: identifiers, names, times, HTTP details, and word lists
// whose entries are themselves templates.
#include <charconv>
#include <string>
#include <string_view>
#include <unordered_map>

#include "corpus/engine.h"

namespace logclf::corpus::detail {

namespace {

using sv = std::string_view;

// Consumes the next ':'-separated integer of a slot argument, or gives `fallback`.
std::int64_t next_arg(sv& arg, std::int64_t fallback) {
  if (arg.empty()) return fallback;
  const std::size_t colon = arg.find(':');
  const sv part = arg.substr(0, colon);
  arg = colon == sv::npos ? sv() : arg.substr(colon + 1);
  std::int64_t value = fallback;
  std::from_chars(part.data(), part.data() + part.size(), value);
  return value;
}

void emit(Rng& rng, LineContext& ctx, std::span<const sv> words, std::string& out) {
  expand(rng.pick(words), rng, ctx, out);
}

std::string expanded(Rng& rng, LineContext& ctx, std::span<const sv> words) {
  std::string s;
  emit(rng, ctx, words, s);
  return s;
}

// An entry of a list chosen by the line's pair key, so that an old name and its replacement match.
sv paired(const LineContext& ctx, std::span<const sv> words, std::uint64_t salt = 1) {
  return words[(ctx.pair_key / salt) % words.size()];
}

void append_hex(Rng& rng, std::string& out, std::int64_t digits, const char* alphabet) {
  for (std::int64_t i = 0; i < digits; ++i) out += alphabet[rng.below(16)];
}

constexpr const char* kLowerHex = "0123456789abcdef";
constexpr const char* kUpperHex = "0123456789ABCDEF";

// ---- numbers and identifiers ----

void slot_n(Rng& rng, LineContext&, sv arg, std::string& out) {
  const std::int64_t lo = next_arg(arg, 1);
  const std::int64_t hi = next_arg(arg, 9999);
  append_int(out, rng.between(lo, hi));
}

// {$dec:D:LO:HI}: a number in [LO, HI) with D decimals.
void slot_dec(Rng& rng, LineContext&, sv arg, std::string& out) {
  const std::int64_t digits = next_arg(arg, 2);
  const std::int64_t lo = next_arg(arg, 0);
  const std::int64_t hi = next_arg(arg, 100);
  std::int64_t scale = 1;
  for (std::int64_t i = 0; i < digits; ++i) scale *= 10;
  const std::int64_t v = rng.between(lo * scale, hi * scale - 1);
  append_int(out, v / scale);
  if (digits > 0) {
    out += '.';
    append_int(out, v % scale, static_cast<int>(digits));
  }
}

void slot_pct(Rng& rng, LineContext&, sv arg, std::string& out) {
  const std::int64_t lo = next_arg(arg, 5);
  const std::int64_t hi = next_arg(arg, 99);
  append_int(out, rng.between(lo, hi));
}

void slot_hex(Rng& rng, LineContext&, sv arg, std::string& out) { append_hex(rng, out, next_arg(arg, 8), kLowerHex); }
void slot_upper_hex(Rng& rng, LineContext&, sv arg, std::string& out) {
  append_hex(rng, out, next_arg(arg, 8), kUpperHex);
}

void append_uuid(Rng& rng, std::string& out) {
  append_hex(rng, out, 8, kLowerHex);
  for (int group : {4, 4, 4, 12}) {
    out += '-';
    append_hex(rng, out, group, kLowerHex);
  }
}

void slot_uuid(Rng& rng, LineContext&, sv, std::string& out) { append_uuid(rng, out); }

void slot_req(Rng& rng, LineContext&, sv, std::string& out) {
  out += "req-";
  append_uuid(rng, out);
}

void sticky_hex32(Rng& rng, std::string& value, std::string& out) {
  if (value.empty()) append_hex(rng, value, 32, kLowerHex);
  out += value;
}
void slot_proj(Rng& rng, LineContext& ctx, sv, std::string& out) { sticky_hex32(rng, ctx.project, out); }
void slot_uid(Rng& rng, LineContext& ctx, sv, std::string& out) { sticky_hex32(rng, ctx.user_hex, out); }

void slot_inst(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.instance.empty()) append_uuid(rng, ctx.instance);
  out += ctx.instance;
}

void slot_pid(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.pid == 0) ctx.pid = rng.between(300, 65000);
  append_int(out, ctx.pid);
}

void slot_port(Rng& rng, LineContext&, sv, std::string& out) { append_int(out, rng.between(1024, 65535)); }

void slot_b64(Rng& rng, LineContext&, sv, std::string& out) {
  constexpr sv kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 43; ++i) out += kAlphabet[rng.below(kAlphabet.size())];
}

void slot_epochms(Rng& rng, LineContext& ctx, sv, std::string& out) {
  append_int(out, ctx.epoch * 1000 + rng.between(0, 999));
}
void slot_epochsec(Rng&, LineContext& ctx, sv, std::string& out) { append_int(out, ctx.epoch); }

// {$bizid:ORD}: a business document number in one of several numbering styles.
void slot_bizid(Rng& rng, LineContext& ctx, sv arg, std::string& out) {
  const sv prefix = arg.empty() ? sv("ID") : arg;
  switch (rng.below(5)) {
    case 0:
      out += prefix;
      out += '-';
      append_int(out, rng.between(1, 999999), 6);
      break;
    case 1:
      out += prefix;
      append_int(out, rng.between(1000, 99999));
      break;
    case 2:
      out += prefix;
      out += '-';
      append_int(out, to_civil(ctx.epoch).year);
      out += '-';
      append_int(out, rng.between(1, 99999), 5);
      break;
    case 3:
      out += '#';
      append_int(out, rng.between(1000, 999999));
      break;
    default:
      out += prefix;
      out += '/';
      append_int(out, rng.between(10, 99));
      out += '/';
      append_int(out, rng.between(1000, 9999));
      break;
  }
}

// ---- people ----

constexpr sv kFirst[] = {"alice", "bob",   "carol", "dave",   "erin",  "frank", "grace", "heidi", "ivan",
                         "judy",  "oscar", "peggy", "victor", "walter", "olivia", "liam", "noah", "emma",
                         "ava",   "mia",   "lucas", "sofia",  "mateo", "chen",  "wei",   "priya", "arjun",
                         "fatima", "omar", "yuki",  "hiro",   "anna",  "lars",  "ingrid", "pablo", "diego",
                         "nina",  "tom",   "kate",  "sam",    "rahul", "aisha", "jonas", "elena", "marco"};
constexpr sv kFirstCap[] = {"Alice", "Bob",   "Carol", "David", "Erin",   "Frank", "Grace", "Maria", "Ivan",
                            "Judy",  "Oscar", "Laura", "Victor", "Walter", "Olivia", "Liam", "Noah", "Emma",
                            "Priya", "Arjun", "Fatima", "Omar", "Yuki",  "Anna",  "Lars",  "Pablo", "Nina",
                            "José",  "Zoë",   "Søren", "Renée", "Łukasz", "Ángela"};
constexpr sv kLast[] = {"smith", "jones", "garcia", "miller", "davis",  "martin", "lee",    "walker", "patel",
                        "kim",   "nguyen", "schmidt", "rossi", "novak", "silva",  "tanaka", "johansson",
                        "dubois", "kowalski", "ivanova", "okafor", "haddad", "lopez", "chen", "murphy",
                        "fischer", "moreau", "costa", "yilmaz", "sato"};
constexpr sv kLastCap[] = {"Smith", "Jones", "Garcia", "Miller", "Davis", "Martin", "Lee", "Walker", "Patel",
                           "Kim",   "Nguyen", "Schmidt", "Rossi", "Novak", "Silva", "Tanaka", "Dubois",
                           "Kowalski", "Okafor", "Haddad", "Lopez", "Chen", "Murphy", "Müller", "Núñez",
                           "Çelik", "Østergaard"};
constexpr sv kNonAsciiUser[] = {"józef", "renée", "zoë", "søren", "müller.k", "françois", "łukasz", "åsa",
                                "josé.garcía", "çağrı"};

constexpr sv kUserForms[] = {
    "{$first}",          "{$first}",         "{$first}",         "User{$n:1:999}",   "User{$n:1:9999}",
    "{$n:1000:99999}",   "{$n:100:9999}",    "{$first}.{$last}", "{$firstinitial}{$last}",
    "{$first}{$n:1:99}", "svc-{backup|etl|reports|sync|deploy}", "u{$n:10000:99999}",
    "{$first}_{$last}",  "{$nonascii}",      "{$first}@{example.com|acme.io|contoso.org}",
    "{$firstinitial}.{$last}"};

void slot_first_initial(Rng& rng, LineContext&, sv, std::string& out) { out += static_cast<char>('a' + rng.below(26)); }

void slot_user(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.user.empty()) ctx.user = expanded(rng, ctx, kUserForms);
  out += ctx.user;
}

// A second person in the same line (the target of an action), different from {$user}.
void slot_user2(Rng& rng, LineContext& ctx, sv, std::string& out) {
  std::string other;
  do {
    other = expanded(rng, ctx, kUserForms);
  } while (other == ctx.user);
  out += other;
}

constexpr sv kSystemAccounts[] = {"root",  "admin",  "test",     "guest", "oracle",  "postgres", "ubuntu",
                                  "git",   "ftpuser", "pi",      "support", "user",  "ec2-user", "deploy",
                                  "jenkins", "nagios", "mysql",  "hadoop", "tomcat", "administrator", "backup",
                                  "sysadmin", "webmaster", "teamspeak", "minecraft", "uucp"};

void slot_uname(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (rng.chance(0.55)) {
    out += rng.pick(kSystemAccounts);
  } else if (rng.chance(0.5)) {
    out += rng.pick(kFirst);
  } else {
    slot_first_initial(rng, ctx, {}, out);
    out += rng.pick(kLast);
  }
}

constexpr sv kEmail[] = {"{$first}.{$last}@{example.com|acme.io|globex.net|contoso.org|mail.initech.com}",
                         "{$first}{$n:1:99}@{gmail.com|outlook.com|yahoo.com}",
                         "{billing|support|no-reply|sales|hr}@{example.com|acme.io}"};
constexpr sv kContact[] = {"{$firstcap} {$lastcap}", "{$firstcap} {$lastcap}{| ({Acme Corp|Globex|Initech|Umbrella Ltd|Stark Industries})}"};

// ---- hosts and network ----

constexpr sv kHostForms[] = {
    "{db|web|app|api|cache|mq|etl|worker|mail|auth|batch|search}-{$n:1:40}",
    "{db|web|app|api|cache|worker}-{0|}{$n:1:9}.{prod|stage|dc1|dc2}.{example.com|internal|corp.local}",
    "ip-10-{$n:0:255}-{$n:0:255}-{$n:1:254}",
    "srv-{eu|us|ap}-{west|east|central}-{$n:1:20}",
    "node{$n:1:99}",
    "{atlas|orion|zeus|hermes|apollo|combo|LabSZ|phoenix|vega|titan}",
    "{crm|billing|hr|analytics}-{prod|db|app}{$n:1:9}",
    "{köln|zürich|malmö|são-paulo}-{db|app}-{$n:1:9}"};

void slot_host(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.host.empty()) {
    // Non-ASCII host names exist but are rare.
    const std::size_t forms = rng.chance(0.03) ? std::size(kHostForms) : std::size(kHostForms) - 1;
    expand(kHostForms[rng.below(forms)], rng, ctx, ctx.host);
  }
  out += ctx.host;
}

void slot_hostx(Rng& rng, LineContext& ctx, sv, std::string& out) {
  expand(kHostForms[rng.below(std::size(kHostForms) - 1)], rng, ctx, out);
}

constexpr sv kComputeHost[] = {
    "cp-{$n:1:40}.{slowvm1|fastvm2|gpu1|bigmem3}.tcloud-pg{$n:0:3}.utah.cloudlab.us",
    "compute-{$n:1:99}.{dc1|dc2|lab}.{openstack.local|cloud.internal|example.net}",
    "cmp{$n:10:99}-r{$n:1:12}", "nova-compute-{$n:1:30}", "hv-{$n:100:999}.{az1|az2|az3}.cloud"};

void slot_chost(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.compute_host.empty()) ctx.compute_host = expanded(rng, ctx, kComputeHost);
  out += ctx.compute_host;
}

void append_ip(Rng& rng, std::string& out) {
  const auto octet = [&](std::int64_t lo, std::int64_t hi) { append_int(out, rng.between(lo, hi)); };
  switch (rng.below(6)) {
    case 0:
      out += "10.";
      octet(0, 255);
      out += '.';
      break;
    case 1:
      out += "192.168.";
      break;
    case 2:
      out += "172.";
      octet(16, 31);
      out += '.';
      break;
    default:
      octet(11, 223);
      out += '.';
      octet(0, 255);
      out += '.';
      break;
  }
  octet(0, 255);
  out += '.';
  octet(1, 254);
}

void slot_ip(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.ip.empty()) append_ip(rng, ctx.ip);
  out += ctx.ip;
}
void slot_ipx(Rng& rng, LineContext&, sv, std::string& out) { append_ip(rng, out); }

// ---- times, all derived from the line's own time so that prefixes agree with the timestamp ----

void append_date(std::string& out, const CivilTime& t, char sep = '-') {
  append_int(out, t.year, 4);
  out += sep;
  append_int(out, t.month, 2);
  out += sep;
  append_int(out, t.day, 2);
}

void append_hms(std::string& out, const CivilTime& t) {
  append_int(out, t.hour, 2);
  out += ':';
  append_int(out, t.minute, 2);
  out += ':';
  append_int(out, t.second, 2);
}

void slot_datetime(Rng&, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  append_date(out, t);
  out += ' ';
  append_hms(out, t);
}
void slot_isodate(Rng&, LineContext& ctx, sv, std::string& out) { append_date(out, to_civil(ctx.epoch)); }
void slot_hms(Rng&, LineContext& ctx, sv, std::string& out) { append_hms(out, to_civil(ctx.epoch)); }
void slot_hm(Rng&, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  append_int(out, t.hour, 2);
  out += ':';
  append_int(out, t.minute, 2);
}

// A calendar date around the line's time (an expiry, a deadline, a backup's date).
void slot_date(Rng& rng, LineContext& ctx, sv, std::string& out) {
  append_date(out, to_civil(ctx.epoch + rng.between(-400, 700) * 86400));
}

void slot_iso(Rng& rng, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  append_date(out, t);
  out += 'T';
  append_hms(out, t);
  out += '.';
  append_int(out, rng.between(0, 999), 3);
  out += 'Z';
}

void append_clf(std::string& out, const CivilTime& t, char date_time_sep) {
  append_int(out, t.day, 2);
  out += '/';
  out += kMonthAbbrev[t.month - 1];
  out += '/';
  append_int(out, t.year, 4);
  out += date_time_sep;
  append_hms(out, t);
}

void slot_clftime(Rng& rng, LineContext& ctx, sv, std::string& out) {
  append_clf(out, to_civil(ctx.epoch), ':');
  out += ' ';
  static constexpr sv kZones[] = {"+0000", "+0000", "-0500", "+0100", "+0200", "+0530", "-0800"};
  out += rng.pick(kZones);
}
void slot_wztime(Rng&, LineContext& ctx, sv, std::string& out) { append_clf(out, to_civil(ctx.epoch), ' '); }
void slot_hatime(Rng& rng, LineContext& ctx, sv, std::string& out) {
  append_clf(out, to_civil(ctx.epoch), ':');
  out += '.';
  append_int(out, rng.between(0, 999), 3);
}

void slot_apachetime(Rng&, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  out += kDayAbbrev[t.weekday];
  out += ' ';
  out += kMonthAbbrev[t.month - 1];
  out += ' ';
  append_int(out, t.day, 2);
  out += ' ';
  append_hms(out, t);
  out += ' ';
  append_int(out, t.year, 4);
}

void slot_nginxtime(Rng&, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  append_date(out, t, '/');
  out += ' ';
  append_hms(out, t);
}

// HDFS's "yyMMdd HHmmss pid" prefix.
void slot_hdfsprefix(Rng& rng, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  append_int(out, t.year % 100, 2);
  append_int(out, t.month, 2);
  append_int(out, t.day, 2);
  out += ' ';
  append_int(out, t.hour, 2);
  append_int(out, t.minute, 2);
  append_int(out, t.second, 2);
  out += ' ';
  append_int(out, rng.between(10, 30000));
}

void slot_sysprefix(Rng& rng, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch);
  out += kMonthAbbrev[t.month - 1];
  out += ' ';
  if (t.day < 10) out += ' ';
  append_int(out, t.day);
  out += ' ';
  append_hms(out, t);
  out += ' ';
  slot_host(rng, ctx, {}, out);
  out += ' ';
}

// {$oslo:LEVEL}: the optional "date time pid LEVEL " prefix of OpenStack service logs.
void slot_oslo(Rng& rng, LineContext& ctx, sv arg, std::string& out) {
  if (rng.chance(0.55)) return;
  const CivilTime t = to_civil(ctx.epoch);
  append_date(out, t);
  out += ' ';
  append_hms(out, t);
  out += '.';
  append_int(out, rng.between(0, 999), 3);
  out += ' ';
  slot_pid(rng, ctx, {}, out);
  out += ' ';
  out += arg.empty() ? sv("INFO") : arg;
  out += ' ';
}

void slot_httpdate(Rng& rng, LineContext& ctx, sv, std::string& out) {
  const CivilTime t = to_civil(ctx.epoch + rng.between(30, 700) * 86400);
  out += kDayAbbrev[t.weekday];
  out += ", ";
  append_int(out, t.day, 2);
  out += ' ';
  out += kMonthAbbrev[t.month - 1];
  out += ' ';
  append_int(out, t.year, 4);
  out += " 23:59:59 GMT";
}

constexpr sv kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                              "July",    "August",   "September", "October", "November", "December"};

void slot_monthname(Rng& rng, LineContext&, sv, std::string& out) { out += rng.pick(kMonthNames); }
void slot_monthabbr(Rng& rng, LineContext&, sv, std::string& out) { out += rng.pick(kMonthAbbrev); }

constexpr sv kDeadline[] = {"{$date}",
                            "{$monthabbr} {2025|2026|2027}",
                            "{$monthname} {2025|2026}",
                            "Q{1|2|3|4} {2025|2026|2027}",
                            "{$monthname} {$n:1:28}, {2025|2026}",
                            "{$n:1:28} {$monthname} {2025|2026}",
                            "{2025|2026}-{0{$n:1:9}|1{0|1|2}}-01"};

// ---- HTTP ----

struct StatusInfo {
  int code;
  sv reason;
  int weight;
};

constexpr StatusInfo kStatuses[] = {
    {200, "OK", 420},
    {201, "Created", 50},
    {202, "Accepted", 20},
    {204, "No Content", 30},
    {206, "Partial Content", 5},
    {301, "Moved Permanently", 20},
    {302, "Found", 25},
    {304, "Not Modified", 35},
    {400, "Bad Request", 35},
    {401, "Unauthorized", 30},
    {403, "Forbidden", 25},
    {404, "Not Found", 70},
    {405, "Method Not Allowed", 5},
    {408, "Request Timeout", 5},
    {409, "Conflict", 10},
    {413, "Payload Too Large", 4},
    {422, "Unprocessable Entity", 12},
    {429, "Too Many Requests", 15},
    {500, "Internal Server Error", 35},
    {502, "Bad Gateway", 18},
    {503, "Service Unavailable", 22},
    {504, "Gateway Timeout", 15},
};

int pick_status(Rng& rng) {
  int total = 0;
  for (const auto& s : kStatuses) total += s.weight;
  auto r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  for (const auto& s : kStatuses) {
    if (r < s.weight) return s.code;
    r -= s.weight;
  }
  return 200;
}

void slot_status(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.status == 0) ctx.status = pick_status(rng);
  append_int(out, ctx.status);
}

void slot_reason(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.status == 0) ctx.status = pick_status(rng);
  for (const auto& s : kStatuses) {
    if (s.code == ctx.status) out += s.reason;
  }
}

constexpr sv kMethods[] = {"GET", "GET", "GET", "GET", "GET", "GET", "POST", "POST", "POST",
                           "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"};

void slot_method(Rng& rng, LineContext& ctx, sv, std::string& out) {
  if (ctx.method.empty()) ctx.method = rng.pick(kMethods);
  out += ctx.method;
}

// The many spellings of a status code in the WSGI log lines of the data this corpus targets.
constexpr sv kStatusSpellings[] = {"status: ",  "status: ", "HTTP status code -  ", "RCODE  ", "Return code: ",
                                   "Status code -  ", "status_code: ", "code: ", "response: ", "HTTP "};

void slot_rcode(Rng& rng, LineContext& ctx, sv, std::string& out) {
  out += rng.pick(kStatusSpellings);
  slot_status(rng, ctx, {}, out);
}

// A nova API request line; the status follows what the call usually answers.
void slot_novacall(Rng& rng, LineContext& ctx, sv, std::string& out) {
  struct Call {
    sv method, path;
    int status, weight;
  };
  static constexpr Call kCalls[] = {
      {"GET", "/v2/{$proj}/servers/detail", 200, 60},
      {"GET", "/v2/{$proj}/servers/{$inst}", 200, 8},
      {"POST", "/v2/{$proj}/os-server-external-events", 200, 8},
      {"POST", "/v2/{$proj}/servers", 202, 6},
      {"DELETE", "/v2/{$proj}/servers/{$inst}", 204, 6},
      {"GET", "/v2/{$proj}/flavors/{$n:1:42}", 200, 3},
      {"GET", "/v2/{$proj}/images/{$uuid}", 200, 2},
      {"GET", "/v2.1/{$proj}/os-keypairs", 200, 2},
      {"GET", "/v2.1/{$proj}/limits", 200, 2},
      {"POST", "/v2/{$proj}/servers/{$inst}/action", 202, 3},
      {"GET", "/v2/{$proj}/servers/detail?all_tenants=True&changes-since={$isodate}T{$n:10:23}%3A{$n:10:59}%3A{$n:10:59}.{$n:100000:999999}%2B00%3A00", 200, 2},
      {"GET", "/v2/{$proj}/os-hypervisors/detail", 200, 1},
      {"PUT", "/v2.1/{$proj}/servers/{$inst}", 200, 1},
  };
  int total = 0;
  for (const auto& c : kCalls) total += c.weight;
  auto r = static_cast<int>(rng.below(static_cast<std::uint64_t>(total)));
  const Call* call = &kCalls[0];
  for (const auto& c : kCalls) {
    if (r < c.weight) {
      call = &c;
      break;
    }
    r -= c.weight;
  }
  ctx.method = call->method;
  // Most calls succeed with their usual code; some fail as real APIs do.
  ctx.status = rng.chance(0.85) ? call->status : pick_status(rng);
  out += call->method;
  out += ' ';
  expand(call->path, rng, ctx, out);
  out += " HTTP/1.1";
}

constexpr sv kMetaPath[] = {
    "/openstack/{2012-08-10|2013-04-04|2013-10-17|2015-10-15|2016-06-30|latest}/{meta_data.json|vendor_data.json|user_data|network_data.json|password}",
    "/openstack/{2012-08-10|2013-10-17|2016-06-30|latest}",
    "/latest/meta-data/{|instance-id|hostname|local-hostname|local-ipv4|public-ipv4|public-hostname|placement/|placement/availability-zone|block-device-mapping/|block-device-mapping/ami|block-device-mapping/root|security-groups|ami-id|ami-launch-index|reservation-id|public-keys/}",
    "/{2009-04-04|latest}/user-data"};

constexpr sv kApiPath[] = {
    "/api/v{1|2}/{orders|customers|invoices|users|contacts|leads|products|payments|tickets|employees}{|/{$n:1:99999}|/{$n:1:99999}/{items|notes|history}|?page={$n:1:50}&limit={20|50|100}}",
    "/api/v{1|2}/{orders|customers|invoices|users|contacts}/{$uuid}",
    "/{health|healthz|metrics|status|ready|ping}",
    "/{login|logout|signup|account/settings|profile}",
    "/graphql",
    "/v1/auth/token",
    "/static/{js|css}/{app|main|vendor}.{$hex:8}.{js|css}",
    "/reports/{2024|2025}/{$n:1:12}{|/summary.pdf}",
    "/search?q={invoice|report|order+{$n:1:9999}|{$first}}",
    "/{cart/checkout|cart|checkout/confirm}",
    "/favicon.ico",
    "/images/{logo|banner|avatar_{$n:1:9999}}.{png|jpg|webp}",
    "/{|index.html|about|pricing|docs/getting-started}",
    "/webhooks/{stripe|github|slack|twilio}",
    "/crm/{leads|accounts|opportunities}/{$n:1000:99999}{|/edit}",
    "/hr/{employees|payroll|timesheets}{|/{$n:100:9999}}",
    "/billing/{invoices|statements}/{$bizid:INV}{|/pdf}"};

constexpr sv kWebReq[] = {"{$method} {$apipath} HTTP/{1.1|1.1|1.1|1.0|2.0}"};

constexpr sv kExtUrl[] = {
    "https://{api.stripe.com|api.partner-data.io|hooks.slack.com|graph.microsoft.com|api.hubspot.com|rates.example.org|api.sendgrid.com|maps.googleapis.com}/{v1|v2|v3}/{charges|contacts|messages|rates|events|customers|geocode}{|/{$hex:10}}"};

constexpr sv kDomain[] = {"{www|api|app|portal|crm|billing|hr|shop}.{example|acme|globex|initech|contoso}.{com|io|net|org}"};

constexpr sv kReferer[] = {"https://{$domain}/{|login|dashboard|products|search?q=report|pricing}",
                           "https://www.google.com/", "https://{$domain}{$apipath}"};

constexpr sv kUserAgent[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{$n:100:126}.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{$n:0:5} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:{$n:100:127}.0) Gecko/20100101 Firefox/{$n:100:127}.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_{$n:0:5} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "curl/7.{$n:60:88}.0",
    "python-requests/2.{$n:20:32}.0",
    "Go-http-client/1.1",
    "kube-probe/1.{$n:20:30}",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "okhttp/4.{$n:1:12}.0",
    "Apache-HttpClient/4.5.{$n:1:14} (Java/17.0.{$n:1:9})",
    "PostmanRuntime/7.{$n:26:39}.0"};
constexpr sv kUserAgentPlus[] = {"Mozilla/5.0+(Windows+NT+10.0;+Win64;+x64)+AppleWebKit/537.36",
                                 "Mozilla/5.0+(compatible;+MSIE+10.0;+Windows+NT+6.1)", "curl/7.{$n:60:88}.0",
                                 "-"};

constexpr sv kRdns[] = {
    "{customer|dsl|static|host|ppp}-{$n:1:254}-{$n:1:254}-{$n:1:254}.{isp-net.com|uninet-ide.com.mx|adsl.proxad.net|broadband.example.ru|dynamic.163data.com.cn}"};

// ---- OpenStack resource views ----

void slot_finalview(Rng& rng, LineContext& ctx, sv, std::string& out) {
  static constexpr std::int64_t kRam[] = {32768, 64172, 65536, 131072, 257847, 515891};
  static constexpr std::int64_t kDisk[] = {15, 49, 100, 480, 960, 1760};
  static constexpr std::int64_t kCpus[] = {8, 16, 24, 32, 48, 64, 96};
  const std::int64_t ram = rng.pick(kRam);
  const std::int64_t disk = rng.pick(kDisk);
  const std::int64_t cpus = rng.pick(kCpus);
  out += "name=";
  slot_chost(rng, ctx, {}, out);
  out += " phys_ram=";
  append_int(out, ram);
  out += "MB used_ram=";
  append_int(out, 512 * rng.between(1, ram / 512));
  out += "MB phys_disk=";
  append_int(out, disk);
  out += "GB used_disk=";
  append_int(out, rng.between(0, disk));
  out += "GB total_vcpus=";
  append_int(out, cpus);
  out += " used_vcpus=";
  append_int(out, rng.between(0, cpus));
  out += " pci_stats=[]";
}

constexpr sv kMemMb[] = {"512", "1024", "2048", "2048", "4096", "8192", "16384"};

// ---- deprecations: old names and their replacements, kept consistent through the pair key ----

constexpr sv kFeatureNouns[] = {
    "ReportBuilder", "InvoicePrinter", "ContactImporter", "LeadScorer", "DataSync",     "MailMerge",
    "QuoteEngine",   "PipelineView",   "ForecastTool",    "CaseRouter", "TicketExporter", "PayrollExport",
    "CalendarSync",  "DocumentVault",  "TerritoryPlanner", "SurveyManager", "ChartWidget", "AuditViewer",
    "BatchUploader", "PriceCalculator", "CommissionTracker", "KnowledgeBase", "ChatConnector", "OrderWizard",
    "CampaignBuilder", "DashboardDesigner", "SpreadsheetExport", "ExpenseScanner"};
constexpr sv kOldPrefix[] = {"", "Legacy", "Classic", "Basic", "Old", "Simple", "Standard"};
constexpr sv kNewPrefix[] = {"Advanced", "Smart", "Unified", "Cloud", "Modern", "Next", "Enterprise"};

void slot_oldfeat(Rng&, LineContext& ctx, sv, std::string& out) {
  out += paired(ctx, kOldPrefix, 131);
  out += paired(ctx, kFeatureNouns);
}
void slot_newfeat(Rng&, LineContext& ctx, sv, std::string& out) {
  out += paired(ctx, kNewPrefix, 977);
  out += paired(ctx, kFeatureNouns);
}

constexpr sv kEntities[] = {"Customer", "Account", "Invoice", "Order",   "Contact", "Lead",
                            "Employee", "Payment", "Ticket",  "Product", "Quote",   "Shipment"};
constexpr sv kOldVerbs[] = {"get", "load", "list", "find", "read", "retrieve"};
constexpr sv kOldSuffix[] = {"Data", "Info", "ById", "Record", "List", "V1"};
constexpr sv kNewVerbs[] = {"fetch", "query", "lookup", "resolve", "search"};
constexpr sv kNewSuffix[] = {"V2", "Profile", "Summary", "Details", "Record"};

void slot_oldapi(Rng&, LineContext& ctx, sv, std::string& out) {
  out += paired(ctx, kOldVerbs, 7);
  out += paired(ctx, kEntities);
  out += paired(ctx, kOldSuffix, 61);
}
void slot_newapi(Rng&, LineContext& ctx, sv, std::string& out) {
  out += paired(ctx, kNewVerbs, 389);
  out += paired(ctx, kEntities);
  out += paired(ctx, kNewSuffix, 1511);
}

constexpr sv kOldProp[] = {"app.mail.host", "server.max-http-header-size", "crm.sync.interval", "billing.tax.provider",
                           "auth.legacy_login", "report.export.format", "logging.file", "db.pool.max",
                           "cache.ttl", "security.basic.enabled", "mail.smtp.ssl", "import.batchSize",
                           "hr.payroll.legacyMode", "api.rateLimit"};
constexpr sv kNewProp[] = {"app.notifications.smtp.host", "server.max-http-request-header-size", "crm.sync.schedule",
                           "billing.tax.engine", "auth.sso.enabled", "report.output.format", "logging.file.name",
                           "datasource.hikari.maximum-pool-size", "cache.default-ttl", "security.auth.mode",
                           "mail.smtp.tls.mode", "import.batch-size", "hr.payroll.engine",
                           "api.rate-limit.requests-per-minute"};
constexpr sv kOldOpt[] = {"rpc_backend", "auth_uri", "connection_debug", "max_pool_size", "verbose",
                          "memcached_servers", "use_neutron", "firewall_driver", "notify_on_state_change"};
constexpr sv kNewOpt[] = {"transport_url", "www_authenticate_uri", "connection_trace", "pool_size", "debug",
                          "memcache_servers", "network_api", "security_group_driver", "notification_format"};
constexpr sv kOldFunc[] = {"getUserById", "formatDate", "sendMail", "calcTax", "parseXml",
                           "legacyAuth", "exportCsv", "loadConfig", "setTimeoutMs", "fetchAll",
                           "create_session", "to_json_legacy"};
constexpr sv kNewFunc[] = {"findUser", "formatDateTime", "sendNotification", "computeTax", "parseDocument",
                           "authenticate", "exportTable", "readSettings", "setTimeout", "fetchPage",
                           "open_session", "to_json"};
constexpr sv kOldField[] = {"customer_name", "phoneNumber", "total_amount", "created", "owner_id",
                            "status_code", "zip", "fax_number", "region_code"};
constexpr sv kNewField[] = {"customer.display_name", "phones", "amount.total", "created_at", "owner.id",
                            "state", "postal_code", "contact_channels", "region.id"};
constexpr sv kK8sOld[] = {"extensions/v1beta1 Ingress", "policy/v1beta1 PodSecurityPolicy", "batch/v1beta1 CronJob",
                          "policy/v1beta1 PodDisruptionBudget", "autoscaling/v2beta2 HorizontalPodAutoscaler",
                          "discovery.k8s.io/v1beta1 EndpointSlice"};
constexpr sv kK8sNew[] = {"networking.k8s.io/v1 Ingress", "Pod Security Admission", "batch/v1 CronJob",
                          "policy/v1 PodDisruptionBudget", "autoscaling/v2 HorizontalPodAutoscaler",
                          "discovery.k8s.io/v1 EndpointSlice"};

void slot_oldprop(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kOldProp); }
void slot_newprop(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kNewProp); }
void slot_oldopt(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kOldOpt); }
void slot_newopt(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kNewOpt); }
void slot_oldfunc(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kOldFunc); }
void slot_newfunc(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kNewFunc); }
void slot_oldfield(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kOldField); }
void slot_newfield(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kNewField); }
void slot_k8sapi(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kK8sOld); }
void slot_k8snew(Rng&, LineContext& ctx, sv, std::string& out) { out += paired(ctx, kK8sNew); }

constexpr sv kPyDep[] = {
    "datetime.datetime.utcnow() is deprecated and scheduled for removal in a future version. Use timezone-aware objects instead.",
    "the imp module is deprecated in favour of importlib",
    "pkg_resources is deprecated as an API",
    "distutils Version classes are deprecated. Use packaging.version instead.",
    "'{$oldfunc}' is deprecated, use '{$newfunc}' instead",
    "Call to deprecated function {$oldfunc} (use {$newfunc} instead).",
    "The 'warn' method is deprecated, use 'warning' instead",
    "Passing a dict to {$oldfunc}() is deprecated since {$ver2}",
    "ssl.PROTOCOL_TLS is deprecated",
    "There is no current event loop",
    "np.float is a deprecated alias for the builtin float",
    "The default value of numeric_only in DataFrame.mean is deprecated",
    "{$oldfield} argument is deprecated and will be removed in {$ver2}; use {$newfield}"};
constexpr sv kPyFile[] = {
    "/usr/lib/python3/dist-packages/{requests|urllib3|yaml|jinja2|celery}/{__init__|utils|compat|core}",
    "/opt/{crm|billing|etl|analytics}/venv/lib/python3.{8|9|10|11|12}/site-packages/{pandas|sqlalchemy|boto3|django|flask}/{base|core|util|compat}",
    "/srv/{app|legacycrm}/{jobs|tasks|sync}/{export|import|report|contacts}"};
constexpr sv kNodeDep[] = {
    "Buffer() is deprecated due to security and usability issues. Please use the Buffer.alloc(), Buffer.allocUnsafe(), or Buffer.from() methods instead.",
    "The `punycode` module is deprecated. Please use a userland alternative instead.",
    "The util._extend API is deprecated. Please use Object.assign() instead.",
    "crypto.createCipher is deprecated.",
    "OutgoingMessage.prototype._headers is deprecated",
    "{$oldfunc}() is deprecated. Use {$newfunc}() instead."};
constexpr sv kJavaFile[] = {
    "/build/src/main/java/com/{acme|globex|initech}/{crm|billing|hr|reports}/{Lead|Invoice|Employee|Report|Order}{Service|Controller|Mapper|Job}.java"};
constexpr sv kJMethod[] = {"getDate()", "toGMTString()", "setSeconds(int)", "getInstance(String)", "finalize()",
                           "newInstance()", "stop()", "encode(String)", "exec(String)", "getHours()"};
constexpr sv kJType[] = {"Date",      "Thread",   "Class",    "Object",  "URLEncoder", "Runtime",
                         "Customer",  "Invoice",  "Order",    "Employee", "ReportUtils", "LegacyInvoiceService"};
constexpr sv kPhpFile[] = {"Invoice", "legacy_export", "functions", "ReportController", "crm_helpers", "Mailer"};

void slot_pyfile(Rng& rng, LineContext& ctx, sv, std::string& out) {
  emit(rng, ctx, kPyFile, out);
  out += ".py";
}

constexpr sv kEolProduct[] = {"PHP 7.{3|4}",          "Python 3.{6|7|8}",        "CentOS {7|8}",
                              "Java {8|11}",          "PostgreSQL {10|11|12}",   "Node.js {14|16|18}",
                              "Windows Server 2012 R2", "Ubuntu {18.04|20.04} LTS", "Angular {11|12|13}",
                              "Internet Explorer 11", "MySQL 5.7",               "Debian {9|10}",
                              "OpenSSL 1.1.1",        "Elasticsearch {6.8|7.10}", "Kubernetes 1.{24|25|26}",
                              "{$product} {$ver2}"};
constexpr sv kLegacyThing[] = {"legacy auth protocols", "password-only login", "NTLM authentication",
                               "the v1 webhook format", "Internet Explorer 11", "CSV attachments in export emails",
                               "the classic editor", "SMS one-time codes", "unsigned API requests",
                               "XML responses", "fax delivery of invoices", "on-premise connectors",
                               "the old mobile app (3.x)", "basic auth on the REST API", "FTP uploads",
                               "the '{$oldfeat}' add-on", "API keys passed in query strings"};
constexpr sv kApiName[] = {"the Orders API", "the Contacts API", "the Billing API", "the HR Connect API",
                           "the CRM SOAP API", "the Reporting API", "the Partner API", "the Inventory API"};

// ---- infrastructure words ----

constexpr sv kSize[] = {"{$dec:1:1:900} MB", "{$dec:1:1:500} GB", "{$n:10:900} MB", "{$n:1:90} KB", "{$dec:2:1:9} TB"};
constexpr sv kDur[] = {"{$n:1:59}s", "{$n:1:59}m {$n:1:59}s", "{$n:1:9}h {$n:1:59}m", "{$n:100:999} ms",
                       "00:{$n:10:59}:{$n:10:59}", "{$dec:1:1:90} seconds", "{$n:2:90} minutes"};
constexpr sv kVer2[] = {"{$n:2:9}.{$n:0:9}", "{$n:2:12}.0", "{$n:10:25}.{$n:1:12}", "20{25|26}.{1|2|3|4}"};
constexpr sv kVer3[] = {"{$n:1:9}.{$n:0:20}.{$n:0:30}", "{$n:1:9}.{$n:0:20}.{$n:0:30}", "20{24|25}.{$n:1:12}.{$n:0:9}",
                        "{$n:1:5}.{$n:0:9}.{$n:0:9}-{rc1|build{$n:100:999}|p{$n:1:9}}"};
constexpr sv kMount[] = {"/", "/var", "/data", "/home", "/var/lib/mysql", "/opt", "/mnt/backup", "/var/log", "C:", "D:"};
constexpr sv kPath[] = {"/var/log/{app|nginx|crm|billing}/{access|app|error|audit}.log", "/etc/{app|crm}/config.yaml",
                        "/opt/{crm|billing|hr}/data/{$file}", "/srv/exports/{$file}", "/tmp/{$hex:8}",
                        "/var/lib/{postgresql|mysql|docker}/{data|volumes}", "/home/{$first}/{$file}"};
constexpr sv kFile[] = {
    "{data|customers|invoices|payroll|leads|contacts|orders|report|export|inventory|employees}_{$n:100:9999}.{csv|xlsx|json|pdf|xml|zip}",
    "{Q1|Q2|Q3|Q4}_{2024|2025}_{sales|forecast|budget|pipeline}.{xlsx|pdf}",
    "{résumé|reçu|übersicht}_{$n:100:9999}.pdf",
    "IMG_{$n:1000:9999}.{jpg|png}",
    "{$hex:12}.parquet",
    "{backup|dump}-{$isodate}.{tar.gz|sql.gz}"};
constexpr sv kJob[] = {"nightly-etl", "invoice-batch", "crm-contact-sync", "hr-export", "daily-report",
                       "db-backup-{$n:1:9}", "inventory-import", "ledger-reconcile", "usage-rollup",
                       "gdpr-purge", "search-reindex", "{crm|billing|hr}_{sync|export|import}_{$n:1:99}",
                       "lead-dedupe", "payroll-prep", "cache-warmup"};
constexpr sv kQueue[] = {"orders.created", "invoice-events", "crm-sync", "email-outbox", "notifications",
                         "payments.incoming", "hr.changes", "analytics.events"};
constexpr sv kDbName[] = {"crm_prod", "billing", "hr_core", "analytics_dw", "orders", "customers", "payroll",
                          "inventory", "ledger", "crm_archive"};
constexpr sv kComp[] = {"Component{$n:1:99}", "Component{$n:1:99}", "CMP-{$n:100:999}",
                        "{core|auth|storage|sched|billing|routing|ledger}-{core|svc|node}-{$n:1:9}",
                        "MOD-{$HEX:4}", "C{$n:100:999}", "unit-{$n:1:64}"};
constexpr sv kCoreComp[] = {"the core transaction engine", "the authentication backbone", "the primary message router",
                            "the central scheduler", "the order processing core", "the ledger service",
                            "the main application server", "the payment switch"};
constexpr sv kImpact[] = {"all transactions halted", "users cannot log in", "platform unavailable",
                          "order intake stopped", "immediate attention required", "service outage in progress",
                          "no requests are being served"};
constexpr sv kRaid[] = {"md{$n:0:9}", "array {A|B|C}{$n:1:9}", "vol{$n:1:20}", "RAID-{$n:1:9}", "/dev/md{$n:0:9}",
                        "on controller {$n:0:3}"};
constexpr sv kCluster[] = {"db-cluster-{$n:1:9}", "pg-{prod|main}-{$n:1:9}", "mysql-{eu|us}-{$n:1:9}",
                           "cassandra-ring-{$n:1:4}", "mongo-rs{$n:0:4}", "kafka-{prod|main}-{$n:1:3}",
                           "san-{$n:1:4}", "ceph-{prod|main}"};
constexpr sv kCorrupt[] = {"table {orders|ledger|accounts|invoices}", "the primary datastore", "volume {$volid}",
                           "the customer database", "index {$dbname}_pkey", "/dev/sd{b|c}", "the object store"};
constexpr sv kRegion[] = {"eu-west-1", "us-east-1", "ap-south-1", "dc-{fra|ams|iad}-{$n:1:4}", "zone-{a|b|c}"};
constexpr sv kProc[] = {"postgres", "java", "nginx", "mysqld", "redis-server", "crm-worker", "billing-daemon",
                        "python3", "node", "haproxy", "slapd", "rabbitmq-server"};
constexpr sv kConnPool[] = {"HikariPool-{$n:1:4}", "db-main", "crm-readonly", "http-client", "worker-pool",
                            "async-exec", "pgbouncer"};
constexpr sv kPod[] = {"{api|worker|crm-sync|billing|web}-{$hex:9}-{$hex:5}"};
constexpr sv kBucket[] = {"{crm|billing|hr|analytics}-{exports|archive|media|backups}-{prod|dev}"};
constexpr sv kVolId[] = {"vol-{$hex:8}", "{$uuid}"};
constexpr sv kSvcName[] = {"inventory-service", "order-api", "billing-worker", "crm-sync", "auth-gateway",
                           "report-renderer", "notification-service", "search-indexer", "hr-portal", "etl-runner",
                           "pricing-engine", "webhook-dispatcher", "payments-api", "ledger-service"};
constexpr sv kDependency[] = {"PostgreSQL primary {$hostx}", "the payments database", "Redis cache at {$hostx}:6379",
                              "Kafka broker {$hostx}:9092", "RabbitMQ at {$hostx}", "the Elasticsearch cluster",
                              "LDAP server {$hostx}", "SMTP relay {$hostx}", "{$svcname}", "the pricing API",
                              "S3 bucket {$bucket}", "upstream {$hostx}:{$port}", "MongoDB replica set rs{$n:0:3}",
                              "memcached on {$hostx}", "the tax service", "Active Directory",
                              "{$exturl}", "the {$sysname} API"};
constexpr sv kStorage[] = {"S3 bucket {$bucket}", "SFTP server {$hostx}", "Azure Blob container {exports|archive}",
                           "the document store", "NFS share /mnt/{exports|reports}"};
constexpr sv kSysName[] = {"ModernCRM", "BillingSystem", "the ERP", "the data warehouse", "the HR system",
                           "Salesforce", "SAP", "the marketing platform", "LegacyCRM", "AnalyticsEngine"};
constexpr sv kJClass[] = {
    "com.{acme|globex|initech}.{crm|billing|hr|analytics|payments}.{service|sync|jobs|api}.{Contact|Invoice|Order|Employee|Report|Payment|Lead}{Service|SyncJob|Repository|Client|Processor}"};
constexpr sv kUnitDesc[] = {"Daily apt download activities", "Daily apt upgrade and clean activities",
                            "OpenBSD Secure Shell server", "Rotate log files", "The Apache HTTP Server",
                            "A high performance web server and a reverse proxy server",
                            "Cleanup of Temporary Directories", "Network Time Synchronization",
                            "Postfix Mail Transport Agent", "PostgreSQL RDBMS", "Docker Application Container Engine",
                            "Certbot renewal", "Message of the Day", "Update UTMP about System Runlevel Changes"};
constexpr sv kCfgKey[] = {"max_connections", "retry.backoff", "export.timeout", "mail.port", "batch_size",
                          "cache.ttl", "worker.threads", "sync.window"};
constexpr sv kErrTail[] = {"connection reset by peer", "timeout after {$n:5:120}s", "broken pipe", "ECONNREFUSED",
                           "i/o timeout", "remote end closed connection", "host unreachable",
                           "TLS handshake timeout", "write conflict", "no route to host",
                           "context deadline exceeded", "socket hang up", "unexpected EOF",
                           "lock wait timeout exceeded", "503 from upstream", "disk quota exceeded on target",
                           "permission denied", "too many connections"};
constexpr sv kModule[] = {"ImportParser", "CsvReader", "address-normalizer", "InvoiceMapper", "PayloadValidator",
                          "ContactMatcher", "DateParser", "ExcelLoader", "feed-ingest", "EDI-translator",
                          "{$n:1:9}{A|B|C}", "X{$n:1:20}"};
constexpr sv kDataOp[] = {"data migration", "data transfer", "data synchronization", "data import", "data export",
                          "data replication", "data validation", "data reconciliation", "data upload",
                          "data processing", "bulk load", "nightly data sync", "schema migration", "data parsing",
                          "record synchronization", "file transfer", "batch import"};
constexpr sv kShard[] = {"{$n:1:64}", "{$n:1:64}", "{eu|us|apac}-{$n:1:12}", "s{$n:1:99}", "#{$n:1:64}"};

// ---- security and user words ----

constexpr sv kSecRes[] = {"/admin", "/api/v1/admin/users", "payroll records", "the HR database",
                          "account Account{$n:100:9999}", "/etc/shadow", "finance reports", "{$apipath}",
                          "the customer PII export", "the billing console", "the audit log", "salary data",
                          "the production database", "S3 bucket {$bucket}"};
constexpr sv kAcct[] = {"Account{$n:100:9999}", "svc-{payroll|backup|deploy|finance}", "root", "admin",
                        "{$first}.{$last}", "acct-{$n:1000:9999}"};
constexpr sv kRole[] = {"viewer", "editor", "sales-rep", "analyst", "support-agent", "billing-clerk",
                        "hr-manager", "report-viewer", "team-lead", "contributor", "recruiter", "account-manager"};
constexpr sv kReport[] = {
    "{Monthly|Weekly|Quarterly|Annual} {Sales|Revenue|Churn|Pipeline|Headcount|Expense|Inventory} {Report|Summary|Overview}",
    "{Q1|Q2|Q3|Q4} {2024|2025} {Forecast|Pipeline|Bookings}", "Top {10|20|50} Accounts",
    "{Open|Overdue} {Invoices|Tickets|Cases}"};
constexpr sv kTeam[] = {"{sales|support|finance|hr|marketing|ops}-{emea|apac|na|latam|tier1|tier2}",
                        "Team {$n:10:99}", "{Alpha|Bravo|Phoenix|Atlas|Falcon}"};
constexpr sv kAppName[] = {"CRM", "HR portal", "billing console", "analytics dashboard", "customer portal",
                           "expense app", "partner portal"};
constexpr sv kProduct[] = {"Microsoft 365", "Salesforce", "Tableau", "Zendesk", "Jira", "Oracle Database",
                           "Red Hat Enterprise Linux", "Veeam Backup", "Atlassian Confluence", "SAP ERP"};
constexpr sv kFlag[] = {"new-checkout", "beta_reports", "crm.v2.ui", "use-new-tax-engine", "enable_sso",
                        "fast_export", "legacy_sync_path"};

// ---- business process words ----

constexpr sv kStage[] = {"Manager Approval", "Finance Review", "Legal Review", "Credit Check",
                         "Document Collection", "Final Approval", "Provisioning", "Invoice Creation",
                         "Customer Notification", "Data Enrichment", "Quality Check", "Contract Signature"};
constexpr sv kSalesStage[] = {"Prospecting", "Qualification", "Discovery", "Proposal", "Negotiation",
                              "Closed Won", "Closed Lost"};
constexpr sv kFfStep[] = {"Pick", "Pack", "Ship", "Allocate Inventory", "Generate Label", "Carrier Booking",
                          "Customs Declaration"};
constexpr sv kRule[] = {"ESC-{$n:10:99}", "Auto-Escalate-P1", "RouteByRegion", "HighValueDealCheck",
                        "DiscountGuard", "OwnerRequired", "VR_{$n:100:999}", "WF-{$n:100:999}"};
constexpr sv kSla[] = {"Gold-4h", "Platinum 1h", "Standard-48h", "Premium response", "P1 resolution",
                       "Silver-24h"};
constexpr sv kWfName[] = {"LeadToOpportunity", "OrderToCash", "CaseEscalation", "InvoiceApproval",
                          "EmployeeOnboarding", "QuoteApproval", "ContractRenewal", "RefundApproval",
                          "VendorOnboarding", "CustomerFollowUp", "DealDesk", "ReturnAuthorization"};
constexpr sv kWfReason[] = {"required field '{Email|Phone|Tax ID|Billing Contact|Cost Center}' is empty",
                            "approver not found",
                            "no approver configured for this amount",
                            "the assigned owner is inactive",
                            "the referenced record was deleted",
                            "status transition not allowed",
                            "customer contact details are missing",
                            "tax code could not be resolved",
                            "discount exceeds the allowed limit",
                            "price book entry not found",
                            "duplicate record detected",
                            "mandatory document not attached",
                            "budget exceeded",
                            "customer account is on hold",
                            "inconsistent currency on line items",
                            "due date lies in the past",
                            "escalation level undefined",
                            "priority value not recognized",
                            "next action not set"};
constexpr sv kCampaign[] = {"Spring Promo {2025|2026}", "Renewal Nurture", "Webinar Follow-up",
                            "Win-back Q{1|2|3|4}", "Product Launch {$n:1:9}"};
constexpr sv kSku[] = {"SKU-{$n:10000:99999}", "{A|B|X}{$n:100:999}-{$n:10:99}"};

// A slot table entry built from a word list.
template <std::size_t N>
Slot words(const sv (&list)[N]) {
  return Slot{nullptr, std::span<const sv>(list, N)};
}
Slot fn(SlotFn f) { return Slot{f, {}}; }

const std::unordered_map<sv, Slot>& slot_table() {
  static const std::unordered_map<sv, Slot> table = {
      {"n", fn(slot_n)},
      {"dec", fn(slot_dec)},
      {"pct", fn(slot_pct)},
      {"hex", fn(slot_hex)},
      {"HEX", fn(slot_upper_hex)},
      {"uuid", fn(slot_uuid)},
      {"req", fn(slot_req)},
      {"proj", fn(slot_proj)},
      {"uid", fn(slot_uid)},
      {"inst", fn(slot_inst)},
      {"pid", fn(slot_pid)},
      {"port", fn(slot_port)},
      {"b64", fn(slot_b64)},
      {"epochms", fn(slot_epochms)},
      {"epochsec", fn(slot_epochsec)},
      {"bizid", fn(slot_bizid)},
      {"first", words(kFirst)},
      {"firstcap", words(kFirstCap)},
      {"last", words(kLast)},
      {"lastcap", words(kLastCap)},
      {"nonascii", words(kNonAsciiUser)},
      {"firstinitial", fn(slot_first_initial)},
      {"user", fn(slot_user)},
      {"user2", fn(slot_user2)},
      {"uname", fn(slot_uname)},
      {"email", words(kEmail)},
      {"contact", words(kContact)},
      {"host", fn(slot_host)},
      {"hostx", fn(slot_hostx)},
      {"srv", fn([](Rng& rng, LineContext& ctx, sv, std::string& out) {
         // Servers are referred to by number as often as by name.
         if (rng.chance(0.5)) {
           append_int(out, rng.between(1, 99));
         } else {
           slot_host(rng, ctx, {}, out);
         }
       })},
      {"chost", fn(slot_chost)},
      {"ip", fn(slot_ip)},
      {"ipx", fn(slot_ipx)},
      {"rdns", words(kRdns)},
      {"domain", words(kDomain)},
      {"datetime", fn(slot_datetime)},
      {"isodate", fn(slot_isodate)},
      {"hms", fn(slot_hms)},
      {"hm", fn(slot_hm)},
      {"date", fn(slot_date)},
      {"iso", fn(slot_iso)},
      {"clftime", fn(slot_clftime)},
      {"wztime", fn(slot_wztime)},
      {"hatime", fn(slot_hatime)},
      {"apachetime", fn(slot_apachetime)},
      {"nginxtime", fn(slot_nginxtime)},
      {"hdfsprefix", fn(slot_hdfsprefix)},
      {"sysprefix", fn(slot_sysprefix)},
      {"oslo", fn(slot_oslo)},
      {"httpdate", fn(slot_httpdate)},
      {"monthname", fn(slot_monthname)},
      {"monthabbr", fn(slot_monthabbr)},
      {"deadline", words(kDeadline)},
      {"status", fn(slot_status)},
      {"reason", fn(slot_reason)},
      {"method", fn(slot_method)},
      {"rcode", fn(slot_rcode)},
      {"novacall", fn(slot_novacall)},
      {"metapath", words(kMetaPath)},
      {"apipath", words(kApiPath)},
      {"webreq", words(kWebReq)},
      {"exturl", words(kExtUrl)},
      {"referer", words(kReferer)},
      {"ua", words(kUserAgent)},
      {"uaplus", words(kUserAgentPlus)},
      {"finalview", fn(slot_finalview)},
      {"memmb", words(kMemMb)},
      {"oldfeat", fn(slot_oldfeat)},
      {"newfeat", fn(slot_newfeat)},
      {"oldapi", fn(slot_oldapi)},
      {"newapi", fn(slot_newapi)},
      {"oldprop", fn(slot_oldprop)},
      {"newprop", fn(slot_newprop)},
      {"oldopt", fn(slot_oldopt)},
      {"newopt", fn(slot_newopt)},
      {"oldfunc", fn(slot_oldfunc)},
      {"newfunc", fn(slot_newfunc)},
      {"oldfield", fn(slot_oldfield)},
      {"newfield", fn(slot_newfield)},
      {"k8sapi", fn(slot_k8sapi)},
      {"k8snew", fn(slot_k8snew)},
      {"pydep", words(kPyDep)},
      {"pyfile", fn(slot_pyfile)},
      {"nodedep", words(kNodeDep)},
      {"javafile", words(kJavaFile)},
      {"jmethod", words(kJMethod)},
      {"jtype", words(kJType)},
      {"phpfile", words(kPhpFile)},
      {"eolproduct", words(kEolProduct)},
      {"legacything", words(kLegacyThing)},
      {"apiname", words(kApiName)},
      {"size", words(kSize)},
      {"dur", words(kDur)},
      {"ver2", words(kVer2)},
      {"ver3", words(kVer3)},
      {"mount", words(kMount)},
      {"path", words(kPath)},
      {"file", words(kFile)},
      {"job", words(kJob)},
      {"queue", words(kQueue)},
      {"dbname", words(kDbName)},
      {"comp", words(kComp)},
      {"corecomp", words(kCoreComp)},
      {"impact", words(kImpact)},
      {"raid", words(kRaid)},
      {"cluster", words(kCluster)},
      {"corrupt", words(kCorrupt)},
      {"region", words(kRegion)},
      {"proc", words(kProc)},
      {"connpool", words(kConnPool)},
      {"pod", words(kPod)},
      {"bucket", words(kBucket)},
      {"volid", words(kVolId)},
      {"svcname", words(kSvcName)},
      {"dependency", words(kDependency)},
      {"storage", words(kStorage)},
      {"sysname", words(kSysName)},
      {"jclass", words(kJClass)},
      {"unitdesc", words(kUnitDesc)},
      {"cfgkey", words(kCfgKey)},
      {"errtail", words(kErrTail)},
      {"module", words(kModule)},
      {"dataop", words(kDataOp)},
      {"shard", words(kShard)},
      {"secres", words(kSecRes)},
      {"acct", words(kAcct)},
      {"role", words(kRole)},
      {"report", words(kReport)},
      {"team", words(kTeam)},
      {"appname", words(kAppName)},
      {"product", words(kProduct)},
      {"flag", words(kFlag)},
      {"stage", words(kStage)},
      {"salesstage", words(kSalesStage)},
      {"ffstep", words(kFfStep)},
      {"rule", words(kRule)},
      {"sla", words(kSla)},
      {"wfname", words(kWfName)},
      {"wfreason", words(kWfReason)},
      {"campaign", words(kCampaign)},
      {"sku", words(kSku)},
  };
  return table;
}

}  // namespace

const Slot* find_slot(std::string_view name) {
  const auto& table = slot_table();
  const auto it = table.find(name);
  return it == table.end() ? nullptr : &it->second;
}

}  // namespace logclf::corpus::detail
