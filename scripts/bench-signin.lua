-- wrk script used by scripts/bench-signin, in one of two modes:
--
--   wrk ... -s scripts/bench-signin.lua URL/login   -- signin COOKIE TOKEN EMAIL PASSWORD
--     POSTs the sign-in form again and again. The CSRF protection is stateless (a nonce in the
--     `csrf` cookie and its HMAC in the `csrf_token` field), so one pair fetched with curl is
--     valid for every request. A successful sign-in answers 303.
--
--   wrk ... -s scripts/bench-signin.lua URL/healthz -- probe INTERVAL_MS
--     GETs the URL, each connection waiting INTERVAL_MS between requests: a light, steady
--     load whose latency shows how the rest of the traffic fares.
--
-- done() prints machine-readable lines (the same format as scripts/bench.lua):
--   BENCH key=value ...      totals, latency percentiles in microseconds
--   BENCH_STATUS code count  every HTTP status seen, summed over all threads

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local mode = "probe"
local interval = 0
local body = nil
statuses = {}

local function urlencode(s)
  return (s:gsub("[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  mode = args[1] or "probe"
  if mode == "signin" then
    local cookie, token, email, password = args[2], args[3], args[4], args[5]
    assert(cookie and token and email and password, "signin needs COOKIE TOKEN EMAIL PASSWORD")
    body = "email=" .. urlencode(email) .. "&password=" .. urlencode(password) ..
      "&csrf_token=" .. urlencode(token)
    wrk.method = "POST"
    wrk.body = body
    wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
    wrk.headers["Cookie"] = "csrf=" .. cookie
  else
    interval = tonumber(args[2]) or 0
  end
end

function delay()
  return interval
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
  local total = {}
  for _, thread in ipairs(threads) do
    for code, n in pairs(thread:get("statuses")) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("BENCH_STATUS %d %d\n", code, n))
  end
end
