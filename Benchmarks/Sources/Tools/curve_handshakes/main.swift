import PerfKit

PerfTool.main(name: "curve_handshakes", PerfTool.curveHandshakes)
