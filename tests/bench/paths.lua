-- wrk script: each request takes a random path from the file named by $KD_PATHS
local paths = {}
local f = assert(io.open(os.getenv("KD_PATHS"), "r"))
for line in f:lines() do paths[#paths + 1] = line end
f:close()
math.randomseed(os.time())
request = function()
  return wrk.format("GET", paths[math.random(#paths)])
end
