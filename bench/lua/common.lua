-- Shared by the bench scripts: reads a file of lines (tokens or task ids) once per thread.
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

return M
