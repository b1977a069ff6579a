-- POST /api/uploads/images: one multipart PNG (BENCH_UPLOAD), the bench users taking turns.
package.path = os.getenv("BENCH_DIR") .. "/lua/?.lua;" .. package.path
local common = require("common")
local tokens = common.lines(os.getenv("BENCH_TOKENS"))
local counter = 0

local file = assert(io.open(os.getenv("BENCH_UPLOAD"), "rb"))
local png = file:read("*a")
file:close()
local boundary = "aiasmr-bench-7d1f0c"
local body = "--" .. boundary .. "\r\n" ..
  'Content-Disposition: form-data; name="file"; filename="bench.png"\r\n' ..
  "Content-Type: image/png\r\n\r\n" .. png .. "\r\n--" .. boundary .. "--\r\n"

setup = function(thread)
  thread:set("offset", math.random(1, 1000000))
end

request = function()
  counter = counter + 1
  local token = tokens[((counter + (offset or 0)) % #tokens) + 1]
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "multipart/form-data; boundary=" .. boundary,
  }, body)
end
