import PerfKit

PerfTool.main(name: "remote_thr", PerfTool.remoteThr)
