-- wrk script for every scenario of `make bench` (bench/run.py writes the data file and runs it):
--
--   wrk -t2 -c100 -d10s -s bench/lua/api.lua http://127.0.0.1:PORT -- <scenario> <data.lua>
--
-- <data.lua> is generated per run and returns a table (see bench/lib/seed.py):
--   users      {base = "/api/<user>/tasks", read = {headers}, write = {headers}} for every bench user
--   readers    {first, last}: the 100 users with 100 tasks (list-100)
--   big        {first, last}: the 5 users with 1,000 tasks (list-1000)
--   writers    {first, last}: users without seeded tasks, the target of every create (so the listed
--              users keep exactly 100 / 1,000 tasks, and list's count(*) stays the same, all run long)
--   task_user, task_id  parallel arrays: every seeded task and the index of its owner in users
--   create_bodies       JSON bodies for POST
--
-- Each thread runs init() in its own Lua state; setup() and done() run in the main state, which is why
-- done() reads the per-thread counters back through the thread objects that setup() kept.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads)
end

local data, build, list_100
local counter = 0

local function pick(range)
  return data.users[math.random(range[1], range[2])]
end

local function pick_task()
  local i = math.random(#data.task_id)
  return data.users[data.task_user[i]], data.task_id[i]
end

local function get_one()
  local user, id = pick_task()
  return wrk.format("GET", user.base .. "/" .. id, user.read)
end

local function list(range, limit)
  return function()
    local user = pick(range)
    return wrk.format("GET", user.base .. "?limit=" .. limit, user.read)
  end
end

-- A feed page of 100 changes: a full sync of one of the users with 100 tasks, in one page.
local function feed_100()
  local user = pick(data.readers)
  return wrk.format("GET", user.base .. "/changes?limit=100", user.read)
end

local function create()
  local user = pick(data.writers)
  local body = data.create_bodies[math.random(#data.create_bodies)]
  return wrk.format("POST", user.base, user.write, body)
end

local function patch()
  local user, id = pick_task()
  counter = counter + 1
  local body = '{"title": "Renamed by the bench, thread ' .. thread_id .. ' request ' .. counter .. '"}'
  return wrk.format("PATCH", user.base .. "/" .. id, user.write, body)
end

local function move()
  -- A drag and drop: right after a nearby sibling (a seeded user's tasks are listed together), else to the top.
  local i = math.random(#data.task_id)
  local j = i + math.random(-5, 5)
  local user = data.users[data.task_user[i]]
  local after = "null"
  if j ~= i and j >= 1 and j <= #data.task_id and data.task_user[j] == data.task_user[i] then
    after = '"' .. data.task_id[j] .. '"'
  end
  return wrk.format("POST", user.base .. "/" .. data.task_id[i] .. "/move", user.write, '{"after_id": ' .. after .. '}')
end

local function toggle()
  local user, id = pick_task()
  -- An empty body (Content-Length: 0) is "no body": the route toggles completed <-> pending.
  return wrk.format("PATCH", user.base .. "/" .. id .. "/complete", user.read, "")
end

local function mixed()
  local r = math.random(100)
  if r <= 70 then return get_one() end
  if r <= 80 then return list_100() end
  if r <= 90 then return create() end
  return patch()
end

function init(args)
  local scenario = args[1]
  data = dofile(args[2])
  math.randomseed(os.time() * 1000 + thread_id)
  non2xx = 0
  statuses = {}
  list_100 = list(data.readers, 100)
  local builders = {
    -- The floor answers any path; sending get-one's exact requests keeps the request side identical.
    ["http-floor"] = get_one,
    ["get-one"] = get_one,
    ["list-100"] = list_100,
    ["list-1000"] = list(data.big, 1000),
    ["feed-100"] = feed_100,
    ["create"] = create,
    ["patch"] = patch,
    ["move"] = move,
    ["toggle"] = toggle,
    ["mixed"] = mixed,
  }
  build = builders[scenario]
  if build == nil then
    error("unknown scenario: " .. tostring(scenario))
  end
end

function request()
  return build()
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    statuses[status] = (statuses[status] or 0) + 1
  end
end

function done(summary, latency, requests)
  local non2xx_total, by_status = 0, {}
  for _, thread in ipairs(threads) do
    non2xx_total = non2xx_total + (thread:get("non2xx") or 0)
    for status, n in pairs(thread:get("statuses") or {}) do
      by_status[status] = (by_status[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(by_status) do
    parts[#parts + 1] = string.format('"%d": %d', status, n)
  end
  local e = summary.errors
  -- One line the driver parses; latencies in microseconds.
  io.write(string.format(
    'WRK_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, "non2xx": %d, "statuses": {%s}, '
      .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, '
      .. '"p50_us": %.1f, "p95_us": %.1f, "p99_us": %.1f, "max_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes, non2xx_total, table.concat(parts, ", "),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max
  ))
end
