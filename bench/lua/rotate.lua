-- GET BENCH_PATH_PREFIX .. id as the owner of id, over the "token id" pairs of BENCH_PAIRS, in order.
-- The threads take disjoint slices, so a given id comes back only once the whole list has been gone
-- through: a status job refreshed from KIE is due again only GENERATION_STATUS_REFRESH_SECONDS later.
package.path = os.getenv("BENCH_DIR") .. "/lua/?.lua;" .. package.path
local common = require("common")
local items = common.pairs(os.getenv("BENCH_PAIRS"))
local prefix = os.getenv("BENCH_PATH_PREFIX")
local stride = tonumber(os.getenv("BENCH_WRK_THREADS"))
local counter = 0

setup = common.number_thread

request = function()
  local item = items[((counter * stride + (slice or 0)) % #items) + 1]
  counter = counter + 1
  return wrk.format("GET", prefix .. item.id, { ["Authorization"] = "Bearer " .. item.token })
end
