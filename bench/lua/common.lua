-- Shared by the bench scripts: reads a file of lines (tokens, task ids or "token id" pairs) once per thread.
local M = {}

function M.lines(path)
  local items = {}
  local file = io.open(path, "r")
  if file == nil then return items end
  for line in file:lines() do
    if #line > 0 then items[#items + 1] = line end
  end
  file:close()
  return items
end

-- "token id" lines (bench/seed.py writes them) as {token = ..., id = ...}.
function M.pairs(path)
  local items = {}
  for _, line in ipairs(M.lines(path)) do
    local token, id = line:match("^(%S+)%s+(%S+)$")
    if token then items[#items + 1] = { token = token, id = id } end
  end
  return items
end

-- Called from `setup`: numbers the threads, so each takes a disjoint slice of a list (index % stride).
local threads = 0
function M.number_thread(thread)
  thread:set("slice", threads)
  threads = threads + 1
end

return M
