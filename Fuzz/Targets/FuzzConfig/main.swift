// The configuration loader: see FuzzHarness.configuration.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.configuration)
