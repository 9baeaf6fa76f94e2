#if !Metrics
import Testing

// Without the trait, ZeroMQMetrics is empty and its tests are compiled out: say so in the test
// report rather than run nothing in silence.
@Test(.disabled("ZeroMQMetrics and its tests need the package trait \"Metrics\": swift test --enable-all-traits"))
func metricsTestsNeedTheMetricsTrait() {}
#endif
