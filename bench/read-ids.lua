-- bench/read-ids.lua: wrk script that GETs a random path from a list.
--
-- BENCH_PATHS names a file of request paths, one a line (for the module
-- run /fhir/Patient/<id> for every loaded patient, for the static
-- reference the one path /static/patient.json).  Both runs go through this
-- same script so that wrk spends the same CPU per request in each: on a
-- 2-core machine wrk and httpd share the cores.  Every request is
-- formatted once in init(); request() only picks one.

local file = os.getenv("BENCH_PATHS") or "bench/out/read/module-paths.txt"
local reqs = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    local headers = { ["Accept"] = "application/fhir+json" }
    for line in io.lines(file) do
        if #line > 0 then
            reqs[#reqs + 1] = wrk.format("GET", line, headers)
        end
    end
    if #reqs == 0 then
        error("no paths in " .. file)
    end
    math.randomseed(1000 + (seed or 0))
end

function request()
    return reqs[math.random(#reqs)]
end
