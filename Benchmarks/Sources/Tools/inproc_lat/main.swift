import PerfKit

PerfTool.main(name: "inproc_lat", PerfTool.inprocLat)
