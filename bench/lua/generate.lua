-- POST /api/generate as many different users (one user's requests serialise on its balance lock).
package.path = os.getenv("BENCH_DIR") .. "/lua/?.lua;" .. package.path
local common = require("common")
local tokens = common.lines(os.getenv("BENCH_TOKENS"))
local counter = 0
local body = '{"prompt": "Soft soap cutting with gentle crunchy sounds", "triggers": ["soap"], "duration": 5, "quality": "720p"}'

setup = function(thread)
  thread:set("offset", math.random(1, 1000000))
end

request = function()
  counter = counter + 1
  local token = tokens[((counter + (offset or 0)) % #tokens) + 1]
  return wrk.format("POST", nil, {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }, body)
end
