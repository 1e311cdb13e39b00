-- bench/search-bodies.lua: wrk script for bench/search.sh.  POSTs a
-- random request body from a list to one operation URL.
--
-- BENCH_BODIES names a file of request Bundles, one compact JSON a line;
-- BENCH_OP_PATH the path to POST them to (/fhir/Patient/$FindCandidates
-- or /fhir/Patient/$GetDemographics).  Every request is formatted once in
-- init(); request() only picks one, so wrk spends little CPU per request
-- on the 2 cores it shares with httpd.

local file = os.getenv("BENCH_BODIES") or "bench/out/search/bodies.txt"
local path = os.getenv("BENCH_OP_PATH") or "/fhir/Patient/$GetDemographics"
local reqs = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    local headers = {
        ["Accept"] = "application/fhir+json",
        ["Content-Type"] = "application/fhir+json",
    }
    for line in io.lines(file) do
        if #line > 0 then
            reqs[#reqs + 1] = wrk.format("POST", path, headers, line)
        end
    end
    if #reqs == 0 then
        error("no bodies in " .. file)
    end
    math.randomseed(2000 + (seed or 0))
end

function request()
    return reqs[math.random(#reqs)]
end
