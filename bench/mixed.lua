-- bench/mixed.lua: wrk script for bench/mixed.sh, a mix of request kinds
-- with the latency of each kind measured apart.
--
-- BENCH_MIX gives the kinds and their shares in percent, for example
-- "read=70,fc=5,gd=5,match=10,write=10"; each request picks its kind at
-- random with those weights.  The requests of each kind come from a file
-- written by mixed.sh (one a line) in BENCH_DIR: read.txt (paths to GET:
-- Patient/{id}), fc.txt, gd.txt and match.txt (bodies to POST to
-- $FindCandidates, $GetDemographics and $match), write.txt
-- ($RevisePatient bodies in which @MSG@ becomes a fresh messageId and
-- @PHONE@ a fresh phone number, so that every revise is a new message
-- and a real change).

-- Per-kind latency: wrk must run with one connection per thread (-tN -cN,
-- mixed.sh does).  A thread's one connection then alternates strictly
-- between request() and response(), so the time from one to the other
-- (CLOCK_MONOTONIC through LuaJIT's ffi) is that request's latency, the
-- same span wrk measures (from the first byte written to the last byte
-- read; with keep-alive off the connect before it is left out, as wrk
-- does).  Each thread counts its latencies per kind in a histogram of
-- buckets 1 % wide (wrk's thread:get copies numbers and strings between
-- threads, not tables, so every bucket is a global number h_<kind>_<b>);
-- done() adds them up over all threads and prints, per kind, the count,
-- the rate, p50 and p99 (the middle of their bucket: within 0.5 %) and
-- the answers that were not 2xx, then the total rate.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } cr_bench_timespec;
int clock_gettime(int clk, cr_bench_timespec *tp);
]]
local ts = ffi.new("cr_bench_timespec")
local function now_us()
    ffi.C.clock_gettime(1, ts)          -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local dir = os.getenv("BENCH_DIR") or "bench/out/mixed"
local mix = os.getenv("BENCH_MIX") or "read=70,fc=5,gd=5,match=10,write=10"
local KINDS = { "read", "fc", "gd", "match", "write" }
-- The POSTed kinds: their file and path.
local POSTS = { fc = { "fc.txt", "/fhir/Patient/$FindCandidates" },
                gd = { "gd.txt", "/fhir/Patient/$GetDemographics" },
                match = { "match.txt", "/fhir/Patient/$match" } }

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
    threads[#threads + 1] = thread
end

local weights, total_weight = {}, 0
for k, w in string.gmatch(mix, "(%a+)=(%d+)") do
    weights[#weights + 1] = { kind = k, w = tonumber(w) }
    total_weight = total_weight + tonumber(w)
end

local reqs = {}          -- kind -> list of formatted requests / bodies
local LOG_STEP = math.log(1.01)     -- bucket width: 1 %
local pending_kind, t0
local n = 0
local stamp = tostring(os.time())

local json_headers = { ["Accept"] = "application/fhir+json",
                       ["Content-Type"] = "application/fhir+json",
                       ["UserId"] = "bench@idir" }

local function lines(name)
    local list = {}
    for line in io.lines(dir .. "/" .. name) do
        if #line > 0 then
            list[#list + 1] = line
        end
    end
    if #list == 0 then
        error("no lines in " .. dir .. "/" .. name)
    end
    return list
end

function init(args)
    if total_weight <= 0 then
        error("BENCH_MIX has no kind with a weight: " .. mix)
    end
    for _, e in ipairs(weights) do
        local k = e.kind
        _G["n_" .. k], _G["bad_" .. k] = 0, 0
        _G["lo_" .. k], _G["hi_" .. k] = 1e9, -1
        if e.w > 0 then
            if k == "read" then
                local list = {}
                for i, p in ipairs(lines("read.txt")) do
                    list[i] = wrk.format("GET", p,
                                         { ["Accept"] = "application/fhir+json" })
                end
                reqs[k] = list
            elseif POSTS[k] then
                local list = {}
                for i, b in ipairs(lines(POSTS[k][1])) do
                    list[i] = wrk.format("POST", POSTS[k][2], json_headers, b)
                end
                reqs[k] = list
            elseif k == "write" then
                reqs[k] = lines("write.txt")     -- formatted per request
            else
                error("unknown kind " .. k .. " in BENCH_MIX")
            end
        end
    end
    math.randomseed(4000 + (tid or 0))
end

local function pick()
    local r = math.random() * total_weight
    for _, e in ipairs(weights) do
        if r < e.w then
            return e.kind
        end
        r = r - e.w
    end
    return weights[#weights].kind
end

function request()
    local k = pick()
    local list = reqs[k]
    local req
    if k == "write" then
        n = n + 1
        local body = list[math.random(#list)]
        body = string.gsub(body, "@MSG@", "mixed-" .. stamp .. "-" ..
                           (tid or 0) .. "-" .. n, 1)
        body = string.gsub(body, "@PHONE@", string.format(
                           "604%03d%04d", 200 + (tid or 0) % 800,
                           n % 10000), 1)
        req = wrk.format("POST", "/fhir/Patient/$RevisePatient",
                         json_headers, body)
    else
        req = list[math.random(#list)]
    end
    pending_kind = k
    t0 = now_us()
    return req
end

local shown = false
function response(status, headers, body)
    local k = pending_kind
    if k == nil then
        return
    end
    pending_kind = nil
    local us = now_us() - t0
    local b = math.floor(math.log(us > 1 and us or 1) / LOG_STEP)
    local name = "h_" .. k .. "_" .. b
    _G[name] = (_G[name] or 0) + 1
    _G["n_" .. k] = _G["n_" .. k] + 1
    if b < _G["lo_" .. k] then _G["lo_" .. k] = b end
    if b > _G["hi_" .. k] then _G["hi_" .. k] = b end
    if status < 200 or status >= 300 then
        _G["bad_" .. k] = _G["bad_" .. k] + 1
        if not shown then
            shown = true
            io.stderr:write("bench: " .. k .. ": HTTP " .. status .. ": " ..
                            string.sub(body or "", 1, 300) .. "\n")
        end
    end
end

function done(summary, latency, requests)
    local secs = summary.duration / 1000000
    local all = 0
    for _, k in ipairs(KINDS) do
        local n, nbad, lo, hi, hist = 0, 0, 1e9, -1, {}
        for _, t in ipairs(threads) do
            local tn = t:get("n_" .. k)
            if tn and tn > 0 then
                n = n + tn
                nbad = nbad + t:get("bad_" .. k)
                local tlo, thi = t:get("lo_" .. k), t:get("hi_" .. k)
                if tlo < lo then lo = tlo end
                if thi > hi then hi = thi end
                for b = tlo, thi do
                    local c = t:get("h_" .. k .. "_" .. b)
                    if c then
                        hist[b] = (hist[b] or 0) + c
                    end
                end
            end
        end
        if n > 0 then
            local function pct(p)
                local want, seen = math.ceil(n * p / 100), 0
                for b = lo, hi do
                    seen = seen + (hist[b] or 0)
                    if seen >= want then
                        return math.exp((b + 0.5) * LOG_STEP) / 1000
                    end
                end
                return math.exp((hi + 0.5) * LOG_STEP) / 1000
            end
            all = all + n
            io.write(string.format(
                "kind %-6s n %7d  %8.1f req/s  p50 %8.2f ms  p99 %8.2f ms" ..
                "  not-2xx %d\n", k, n, n / secs, pct(50), pct(99), nbad))
        end
    end
    io.write(string.format("total  n %7d  %8.1f req/s  (%.1f s, errors %d)\n",
                           all, all / secs, secs,
                           summary.errors.connect + summary.errors.read +
                           summary.errors.write + summary.errors.timeout))
end
