-- bench/write.lua: wrk script for bench/write.sh.  BENCH_OP=add POSTs
-- $AddPatient requests for new clients (a fresh SRI each); BENCH_OP=revise
-- POSTs $RevisePatient snapshots of the preloaded clients (SRI BENCH-<i>,
-- i < BENCH_CLIENTS) with a changed phone, so every revise ends one
-- attribute and adds one.
local op = os.getenv("BENCH_OP") or "add"
local clients = tonumber(os.getenv("BENCH_CLIENTS") or "1000")
-- SRIs BENCH-<base> .. BENCH-<base + clients - 1> (bench/pg.sh gives
-- each setup its own range, so that each starts with none of them).
local base = tonumber(os.getenv("BENCH_CLIENT_BASE") or "0")
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
end

local headers = { ["Accept"] = "application/fhir+json",
                  ["Content-Type"] = "application/fhir+json",
                  ["UserId"] = "bench@idir" }
local SRI = "https://health.gov.bc.ca/fhir/NamingSystem/" ..
            "ca-bc-fha-mt-source-patient-id"
local BP = "http://hlth.gov.bc.ca/fhir/client/StructureDefinition/" ..
           "bc-business-period-extension"
local n = 0
local stamp = tostring(os.time())
-- Every message a run sends has an id no other request of any run has
-- used: the registry answers a repeated messageId from its idempotency
-- store without doing the work (CR-PARAM-004), which would make a warm-up
-- and the measured run, or two wrk processes started together (bench/
-- pg.sh's two nodes), send cheap replays.  BENCH_RUN tells apart
-- processes started in the same second; it also gives them their own
-- random sequences of clients.
local run = tonumber(os.getenv("BENCH_RUN") or "0")

-- digits are not allowed in names: spell numbers with letters
local function letters(k)
    local s = ""
    repeat
        s = string.char(97 + k % 26) .. s
        k = math.floor(k / 26)
    until k == 0
    return s
end

-- Realistic spread: birth dates and street numbers differ between
-- clients (the preload uses the same formula for client i).
local function dob(k)
    return string.format("%04d-%02d-%02d", 1940 + k % 60,
                         1 + math.floor(k / 60) % 12,
                         1 + math.floor(k / 720) % 28)
end

local function body(sri, family, phone, k)
    return '{"resourceType":"Bundle","type":"collection","entry":[' ..
        '{"fullUrl":"urn:uuid:1","resource":{"resourceType":"Parameters",' ..
        '"parameter":[{"name":"messageId","valueString":"' .. sri .. '-' ..
        run .. '-' .. stamp .. '-' .. (tid or 0) .. '-' .. n .. '"}]}},{"fullUrl":"urn:uuid:2","resource":{"resourceType":' ..
        '"Patient","extension":[{"url":"' .. BP .. '","valuePeriod":' ..
        '{"start":"2024-06-01"}}],"identifier":[{"use":"official",' ..
        '"system":"' .. SRI .. '","value":"' .. sri .. '"}],"name":[{' ..
        '"use":"official","family":"' .. family .. '","given":["Ann"]}],' ..
        '"telecom":[{"system":"phone","use":"home","value":"' .. phone ..
        '"}],"gender":"female","birthDate":"' .. dob(k) .. '","address":[{' ..
        '"type":"physical","line":["' .. k .. ' Main St"],"city":"Victoria",' ..
        '"state":"BC","country":"CA"}]}}]}'
end

function request()
    n = n + 1
    if op == "add" then
        local sri = "W" .. stamp .. "-" .. (tid or 0) .. "-" .. n
        return wrk.format("POST", "/fhir/Patient/$AddPatient", headers,
                          body(sri, "Write" .. letters((tid or 0) * 100000000 + n),
                               string.format("250%07d", n % 10000000),
                               (tid or 0) * 100000000 + n))
    end
    local i = base + math.random(0, clients - 1)
    return wrk.format("POST", "/fhir/Patient/$RevisePatient", headers,
                      body("BENCH-" .. i, "Bench" .. letters(i),
                           string.format("604%07d", n % 10000000), i))
end

function init(args)
    math.randomseed(7000 + run * 1000 + (tid or 0))
end

-- The first failure of each thread is shown (wrk's summary only counts
-- them).
local shown = false
function response(status, headers, body)
    if status >= 300 and not shown then
        shown = true
        io.stderr:write("bench: HTTP " .. status .. ": " ..
                        string.sub(body or "", -300) .. "\n")
    end
end
