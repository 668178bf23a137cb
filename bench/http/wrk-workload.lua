-- wrk script for scripts/bench.mjs: raw-body writes to fids of reserved key ranges, random reads of
-- previously written fids, or a mix of both. Configured by environment variables (set by bench.mjs):
--   BENCH_MODE          write | read | mix
--   BENCH_READ_PERCENT  share of reads in mix mode (0-100)
--   BENCH_BODY_FILE     file whose bytes are the body of every write
--   BENCH_READ_LIST     file of fid paths ("/3,01637037d6"), one a line, read at random
--   BENCH_THREADS       wrk's -t, so each thread takes its own keys
--   BENCH_RANGES        write key ranges "vid:startKey:cookieHex:count;..." reserved with the
--                       master's /dir/assign?count=N (keys start..start+count-1, same cookie)
-- Every write goes to a new key: thread t of T takes keys start + t, start + t + T, ... of each
-- range in turn, so no two requests of a run write the same needle.
-- done() prints one line "BENCHJSON {...}" that bench.mjs parses.

local threadCount = 0

function setup(thread)
  thread:set("tid", threadCount)
  threadCount = threadCount + 1
end

local mode, readPercent, body, readRequests, ranges, written, headers

local function readFile(name)
  local f = assert(io.open(name, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  mode = os.getenv("BENCH_MODE") or "read"
  readPercent = tonumber(os.getenv("BENCH_READ_PERCENT") or "90")
  threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  math.randomseed(os.time() * 1000 + tid * 7919)
  headers = { ["Content-Type"] = "application/octet-stream" }
  readRequests = {}
  if mode ~= "write" then
    for line in io.lines(os.getenv("BENCH_READ_LIST")) do
      if #line > 0 then
        readRequests[#readRequests + 1] = wrk.format("GET", line)
      end
    end
    assert(#readRequests > 0, "BENCH_READ_LIST is empty")
  end
  ranges = {}
  if mode ~= "read" then
    body = readFile(os.getenv("BENCH_BODY_FILE"))
    for vid, start, cookie, count in string.gmatch(os.getenv("BENCH_RANGES") or "", "(%d+):(%d+):(%x+):(%d+)") do
      ranges[#ranges + 1] = { vid = vid, start = tonumber(start), cookie = cookie, count = tonumber(count) }
    end
    assert(#ranges > 0, "BENCH_RANGES is empty")
  end
  written = 0
end

local function writeRequest()
  local r = ranges[(written % #ranges) + 1]
  local offset = math.floor(written / #ranges) * threads + tid
  written = written + 1
  if offset >= r.count then
    error("write key range exhausted: reserve more keys")
  end
  local path = "/" .. r.vid .. "," .. string.format("%x", r.start + offset) .. r.cookie
  return wrk.format("POST", path, headers, body)
end

function request()
  if mode == "read" then
    return readRequests[math.random(#readRequests)]
  end
  if mode == "mix" and math.random(100) <= readPercent then
    return readRequests[math.random(#readRequests)]
  end
  return writeRequest()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"durationUs":%d,"bytes":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latencyUs":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
