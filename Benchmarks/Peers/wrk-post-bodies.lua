-- wrk script for scripts/bench-e2e.sh: the gateway's own limit. Posts the bodies of the file named by WRK_BODIES
-- (one per line, as `sparrow gateway-sim --body-log` writes them) in turn, with the headers the C client sends:
-- JSON content type, a bearer token and an `Idempotency-Key` of its own per request.
local bodies = {}
for line in io.lines(os.getenv("WRK_BODIES")) do bodies[#bodies + 1] = line end
assert(#bodies > 0, "WRK_BODIES names an empty file")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-token"

local sent = 0
function request()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = "wrk-" .. sent
  return wrk.format(nil, nil, nil, bodies[(sent - 1) % #bodies + 1])
end
