import PerfKit

PerfTool.main(name: "pubsub_thr", PerfTool.pubsubThr)
