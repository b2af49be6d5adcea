-- wrk script for scripts/bench-serve.sh: POST /v1/classify with one log line per request, rotating over
-- realistic lines from web servers, OpenStack, auth, business workflows and resource monitors (rule-decided
-- and model-decided lines alike).
-- DELAY_MS (environment): think time per connection between a response and its next request, so that a
-- closed-loop client offers a lower rate (wrk itself cannot limit its rate). Unset: as fast as possible.
-- RECORDS (environment): above 1, each request is POST /v1/classify/json with a JSON array of that many
-- records shaped as Vector's http sink sends them (message, host, timestamp), rotating over the lines.

local lines = {
  {"nginx", '203.0.113.7 - - [02/Nov/2025:08:14:03 +0000] "GET /api/v1/orders?page=2 HTTP/1.1" 200 5123 "-" "curl/8.4.0"'},
  {"nova-api", 'nova.osapi_compute.wsgi.server [req-7f1c2a9e] 10.0.4.12 "DELETE /v2.1/servers/3c9a HTTP/1.1" status: 204 len: 0 time: 0.1182'},
  {"nova-api", 'nova.osapi_compute.wsgi.server [req-b6e1] 10.11.10.1 "GET /v2/54fadb41/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2675'},
  {"sshd", "Failed password for invalid user admin from 198.51.100.23 port 52114 ssh2"},
  {"auth-service", "Account lockout triggered for user 4411 after 6 failed sign-in attempts"},
  {"ModernHR", "User User1042 logged in."},
  {"ModernHR", "User User77 logged out."},
  {"BillingSystem", "Backup completed successfully."},
  {"BillingSystem", "Backup started at 2025-11-02 02:00:00."},
  {"AnalyticsEngine", "System updated to version 3.4.1."},
  {"ModernCRM", "File report_2025_Q3.pdf uploaded successfully by user User981."},
  {"ThirdPartyAPI", "Disk cleanup completed successfully."},
  {"ModernHR", "System reboot initiated by user User512."},
  {"ModernCRM", "Account with ID 5123 created by User44."},
  {"ModernCRM", "Email service experiencing issues with sending"},
  {"ModernHR", "Multiple login failures occurred on user 6454 account"},
  {"BillingSystem", "Unauthorized access to data was attempted"},
  {"AnalyticsEngine", "Shard 6 replication task ended in failure"},
  {"ModernCRM", "Critical system unit error: unit ID Component55"},
  {"ModernHR", "Admin access escalation detected for user 9429"},
  {"BillingSystem", "Invoice generation failed for account 7710: payment gateway timeout"},
  {"AnalyticsEngine", "Memory usage at 92% on node worker-3, threshold 85%"},
  {"monitor", "CPU load average 14.2 over the last 5 minutes on db-primary-1"},
  {"monitor", "Disk usage on /var/lib/postgresql reached 95% of 500 GB"},
  {"LegacyCRM", "Case escalation for ticket ID 7324 failed because the assigned support agent is no longer active."},
  {"LegacyCRM", "Lead conversion failed for prospect ID 7842 due to missing contact information."},
  {"LegacyCRM", "The 'ReportGenerator' module will be retired in version 4.0. Please migrate to the 'AdvancedAnalyticsSuite' by Dec 2025"},
  {"LegacyCRM", "API endpoint 'getCustomerDetails' is deprecated and will be removed in version 3.2. Use 'fetchCustomerInfo' instead."},
  {"kernel", "Out of memory: Killed process 4821 (java) total-vm:8123456kB, anon-rss:6234567kB"},
  {"kernel", "EXT4-fs error (device sda1): ext4_find_entry:1455: inode #2: comm systemd: reading directory lblock 0"},
  {"hdfs", "PacketResponder 1 for block blk_38865049064139660 terminating"},
  {"hdfs", "Receiving block blk_-1608999687919862906 src: /10.250.19.102:54106 dest: /10.250.19.102:50010"},
  {"apache", "[client 222.166.160.184] Directory index forbidden by rule: /var/www/html/"},
  {"apache", "mod_jk child workerEnv in error state 6"},
  {"openstack", "nova.compute.manager [instance: b9000564] VM Resumed (Lifecycle Event)"},
  {"openstack", "nova.virt.libvirt.imagecache Unknown base file: /var/lib/nova/instances/_base/a489c868"},
  {"payments", "Transaction 88213 declined: card expired"},
  {"payments", "Refund of 120.50 EUR issued to customer 5531"},
  {"scheduler", "Workflow 'nightly-export' step 3 of 7 failed: upstream dependency not ready"},
  {"ci", "Build #4412 for branch main finished with 2 failed tests"},
}

local requests = {}
local next_index = 1
local delay_ms = tonumber(os.getenv("DELAY_MS") or "")
local records = tonumber(os.getenv("RECORDS") or "1")

local function escape(s)
  return (s:gsub('\\', '\\\\'):gsub('"', '\\"'))
end

function init(args)
  local headers = {["Content-Type"] = "application/json"}
  for i, line in ipairs(lines) do
    if records > 1 then
      local items = {}
      for k = 0, records - 1 do
        local l = lines[(i + k - 1) % #lines + 1]
        items[#items + 1] = '{"host":"web-1","message":"' .. escape(l[2]) .. '","source":"' .. escape(l[1]) ..
                            '","timestamp":"2026-12-07T04:00:00.123456Z"}'
      end
      requests[i] = wrk.format("POST", "/v1/classify/json", headers, "[" .. table.concat(items, ",") .. "]")
    else
      local body = '{"logs": [{"log_message": "' .. escape(line[2]) .. '", "source": "' .. escape(line[1]) .. '"}]}'
      requests[i] = wrk.format("POST", "/v1/classify", headers, body)
    end
  end
  next_index = math.random(#requests)
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end

if delay_ms then
  function delay()
    -- Jittered around the mean so that connections do not fall into step.
    return math.floor(delay_ms * (0.5 + math.random()))
  end
end

function done(summary, latency, requests_)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.2f rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect + e.read + e.write + e.timeout, e.status))
end
