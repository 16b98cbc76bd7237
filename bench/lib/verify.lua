-- wrk script for bench:verify: POSTs verification requests built once at start-up from a file of
-- "user<TAB>token" lines (BENCH_PAIRS), with the service's key (BENCH_KEY).
-- BENCH_MODE=random: a random pair per request. BENCH_MODE=list: each pair once, in order, then the
-- thread stops (requests sent after the list ran out carry BENCH_SPARE, a warm pair, and are not counted);
-- it prints BENCH_START at its first request and BENCH_DONE at the last answer, and the benchmark,
-- which times the round between the two lines, then ends wrk with SIGINT (wrk's main thread would
-- otherwise wait for its -d duration).
-- Every answer must be 200 with "valid":true; anything else is an error. done() prints one JSON line.
local mode = os.getenv("BENCH_MODE") or "random"
local key = os.getenv("BENCH_KEY")
local requests = {}
local spare

local function body(user, token)
  return '{"identifier":"' .. user .. '","token":"' .. token .. '"}'
end

local function build(user, token)
  return wrk.format("POST", "/api/v1/service-tokens/verify", { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key }, body(user, token))
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_PAIRS")) do
    local user, token = line:match("^([^\t]+)\t(.+)$")
    if user then table.insert(requests, build(user, token)) end
  end
  local su, st = (os.getenv("BENCH_SPARE") or ""):match("^([^\t]+)\t(.+)$")
  spare = su and build(su, st) or requests[1]
  sent = 0
  answered = 0
  counted = 0
  errors = 0
  first_error = ""
end

function request()
  if mode == "random" then
    return requests[math.random(#requests)]
  end
  sent = sent + 1
  if sent == 1 then
    io.write("BENCH_START\n")
    io.flush()
  end
  if sent <= #requests then return requests[sent] end
  return spare
end

function response(status, headers, resp)
  answered = answered + 1
  if mode == "list" and answered > #requests then
    wrk.thread:stop()
    return
  end
  counted = counted + 1
  if status ~= 200 or not resp:find('"valid":true', 1, true) then
    errors = errors + 1
    if first_error == "" then first_error = status .. " " .. resp:sub(1, 200) end
  end
  if mode == "list" and answered == #requests then
    io.write("BENCH_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, reqs)
  local counted_all, errors_all, first = 0, 0, ""
  for _, t in ipairs(threads) do
    counted_all = counted_all + (t:get("counted") or 0)
    errors_all = errors_all + (t:get("errors") or 0)
    local f = t:get("first_error")
    if first == "" and f and f ~= "" then first = f end
  end
  first = first:gsub('[%c"\\]', " ")
  io.write(string.format('BENCH_RESULT {"counted":%d,"requests":%d,"duration_us":%d,"errors":%d,"p50_us":%d,"p99_us":%d,"socket_errors":%d,"first_error":"%s"}\n',
    counted_all, summary.requests, summary.duration, errors_all, latency:percentile(50), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, first))
end
