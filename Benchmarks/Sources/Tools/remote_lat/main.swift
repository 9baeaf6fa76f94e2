import PerfKit

PerfTool.main(name: "remote_lat", PerfTool.remoteLat)
