import PerfKit

PerfTool.main(name: "proxy_thr", PerfTool.proxyThr)
