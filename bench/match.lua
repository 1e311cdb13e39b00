-- bench/match.lua: wrk script that POSTs [base]/Patient/$match requests.
--
-- BENCH_BODIES names a file of $match request bodies (Parameters, one JSON
-- document a line), written by bench/match.sh from the loaded patients:
-- exact copies and misspelt copies of stored patients.  Every request is
-- formatted once in init(); request() only picks one at random, so wrk
-- spends little CPU of the two cores it shares with httpd.

local file = os.getenv("BENCH_BODIES") or "bench/out/match/bodies.ndjson"
local path = os.getenv("BENCH_PATH") or "/fhir/Patient/$match"
local reqs = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("seed", counter)
end

function init(args)
    local headers = { ["Accept"] = "application/fhir+json",
                      ["Content-Type"] = "application/fhir+json" }
    for line in io.lines(file) do
        if #line > 0 then
            reqs[#reqs + 1] = wrk.format("POST", path, headers, line)
        end
    end
    if #reqs == 0 then
        error("no request bodies in " .. file)
    end
    math.randomseed(2000 + (seed or 0))
end

function request()
    return reqs[math.random(#reqs)]
end

-- Count the answers that were not 200 (wrk counts only >= 400 as errors).
local bad = 0
function response(status, headers, body)
    if status ~= 200 then
        bad = bad + 1
    end
end
