import PerfKit

PerfTool.main(name: "local_lat", PerfTool.localLat)
