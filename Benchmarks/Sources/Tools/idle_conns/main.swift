import PerfKit

PerfTool.main(name: "idle_conns", PerfTool.idleConns)
