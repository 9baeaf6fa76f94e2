#if !Tools
import Testing

// Without the trait, zmqcat is not built and its tests are compiled out: say so in the test
// report rather than run nothing in silence.
@Test(.disabled("zmqcat and its tests need the package trait \"Tools\": swift test --enable-all-traits"))
func zmqcatTestsNeedTheToolsTrait() {}
#endif
