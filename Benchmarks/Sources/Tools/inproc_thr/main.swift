import PerfKit

PerfTool.main(name: "inproc_thr", PerfTool.inprocThr)
