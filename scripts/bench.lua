-- wrk script used by scripts/bench.
--
--   wrk ... -s scripts/bench.lua URL -- [CREDENTIALS_FILE THREADS]
--
-- With a credentials file (one bearer token per line), every request carries
-- `Authorization: Bearer <next token>`, cycling through the file. The API rate limit is per
-- credential, so spreading the load over many credentials keeps each one under its budget
-- and the benchmark measures the request path rather than 429 answers.
-- Without a file (the /healthz baseline) requests go out unchanged; the same script is still
-- used so the client does the same Lua work in every run and the ratios stay fair.
--
-- done() prints machine-readable lines for scripts/bench to parse:
--   BENCH key=value ...      totals, latency percentiles in microseconds
--   BENCH_STATUS code count  every HTTP status seen, summed over all threads

local threads = {}

-- Runs in the main Lua state once per wrk thread, before the threads start.
function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread has its own Lua state).
local creds = {}
local pos = 0
statuses = {}

function init(args)
  local file = args[1]
  if file == nil or file == "" then
    return
  end
  for line in io.lines(file) do
    if line ~= "" then
      creds[#creds + 1] = line
    end
  end
  assert(#creds > 0, "no credentials in " .. file)
  -- Start each thread at a different place in the list so that at any moment the threads
  -- use different credentials (the limiter sees an even spread from the first second).
  local nthreads = tonumber(args[2]) or 1
  pos = math.floor(thread_index * #creds / nthreads)
end

function request()
  if #creds == 0 then
    return wrk.format()
  end
  pos = pos % #creds + 1
  return wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. creds[pos] })
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
