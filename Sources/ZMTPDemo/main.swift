print("swift-zeromq demo")
