import PerfKit

PerfTool.main(name: "local_thr", PerfTool.localThr)
