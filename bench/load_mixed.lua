-- wrk script for bench_load.py: a mix of register / record a dose / read the card.
-- Each create carries a client UUID; 10 % are sent twice (a client retry). The counts of
-- acknowledged creates are printed at the end so bench_load.py can check the database.
local token = os.getenv("KRC_TOKEN")
local facility = os.getenv("KRC_FACILITY")
local series = { {"BCG", 1, 0}, {"OPV", 1, 45}, {"PENTA", 1, 45}, {"PCV", 1, 45}, {"ROTA", 1, 45} }
local given = {"Awa", "Fatoumata", "Mariam", "Aminata", "Moussa", "Oumar", "Seydou", "Issa"}
local family = {"Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Touré", "Sidibé", "Diallo"}
local threads = {}
local children, ready = {}, {}
counter, created_children, created_doses, replays = 0, 0, 0, 0  -- globals: read by done()
local shown = 0
local retry = nil

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() * 1000 + (id or 0) * 7919 + math.floor(os.clock() * 1e6))
end

local function hex(n)
  local t = {}
  for i = 1, n do t[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(t)
end

local function uuid4()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" ..
    string.format("%x", 8 + math.random(0, 3)) .. hex(3) .. "-" .. hex(12)
end

local headers = { ["Authorization"] = "Bearer " .. token,
                  ["Content-Type"] = "application/json" }

local function register()
  local day = 1 + math.random(0, 27)
  local month = 1 + math.random(0, 5)
  local body = string.format(
    '{"id":"%s","given_name":"%s","family_name":"%s","sex":"%s","birth_date":"2026-%02d-%02d",' ..
    '"caregiver_name":"Mère","caregiver_phone":"7%07d","facility":"%s","confirm_new":true}',
    uuid4(), given[math.random(#given)], family[math.random(#family)],
    math.random(0, 1) == 0 and "F" or "M", month, day, math.random(0, 9999999), facility)
  return wrk.format("POST", "/api/v1/children", headers, body)
end

local function add_days(y, m, d, n)
  local t = os.time({year = y, month = m, day = d, hour = 12}) + n * 86400
  return os.date("!%Y-%m-%d", t)
end

function request()
  if retry then
    local r = retry
    retry = nil
    return r
  end
  counter = counter + 1
  local k = counter % 3
  local req
  if k == 1 and #ready > 0 then
    local i = math.random(#ready)
    local c = ready[i]
    local s = series[c.next]
    c.next = c.next + 1
    if c.next > #series then table.remove(ready, i) end
    local y, m, d = c.birth:match("(%d+)-(%d+)-(%d+)")
    local body = string.format('{"id":"%s","vaccine":"%s","dose":%d,"date":"%s","facility":"%s"}',
      uuid4(), s[1], s[2], add_days(tonumber(y), tonumber(m), tonumber(d), s[3]), facility)
    req = wrk.format("POST", "/api/v1/children/" .. c.id .. "/vaccinations", headers, body)
  elseif k == 2 and #children > 0 then
    req = wrk.format("GET", "/api/v1/children/" .. children[math.random(#children)], headers)
  else
    req = register()
  end
  if math.random() < 0.1 and k ~= 2 then retry = req end
  return req
end

function response(status, hdrs, body)
  if status >= 400 and shown < 3 then
    shown = shown + 1
    io.stderr:write("krc answered " .. status .. ": " .. body:sub(1, 300) .. "\n")
  end
  if status == 201 then
    local id = body:match('"id":"([%x%-]+)"')
    if body:find('"registry_number"') then
      created_children = created_children + 1
      local birth = body:match('"birth_date":"([%d%-]+)"')
      table.insert(children, id)
      table.insert(ready, { id = id, birth = birth, next = 1 })
    elseif body:find('"vaccine"') then
      created_doses = created_doses + 1
    end
  elseif status == 200 and body:find('"id"') and not body:find('"schedule"') then
    replays = replays + 1
  end
end

function done(summary, latency, requests)
  local c, d, r = 0, 0, 0
  for _, t in ipairs(threads) do
    c = c + t:get("created_children")
    d = d + t:get("created_doses")
    r = r + t:get("replays")
  end
  io.write(string.format("KRC created_children=%d created_doses=%d replays=%d\n", c, d, r))
  for _, p in ipairs({50, 90, 99}) do
    io.write(string.format("KRC p%d_ms=%.2f\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("KRC requests=%d errors_status=%d errors_other=%d\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
