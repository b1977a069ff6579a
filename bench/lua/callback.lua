-- POST KIE success callbacks, each for a different submitted job (threads take disjoint slices).
package.path = os.getenv("BENCH_DIR") .. "/lua/?.lua;" .. package.path
local common = require("common")
local tasks = common.lines(os.getenv("BENCH_TASKS"))
local threads = 0
local counter = 0

setup = function(thread)
  thread:set("slice", threads)
  threads = threads + 1
end

request = function()
  counter = counter + 1
  local index = ((counter * 8 + (slice or 0)) % #tasks) + 1
  local task = tasks[index]
  local body = '{"code": 200, "msg": "All generated successfully.", "data": {"task_id": "' .. task ..
    '", "video_id": "v' .. task .. '", "video_url": "' .. os.getenv("BENCH_FILE_BASE") .. '/files/' .. task ..
    '.mp4", "image_url": "' .. os.getenv("BENCH_FILE_BASE") .. '/files/' .. task .. '.jpg"}}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
