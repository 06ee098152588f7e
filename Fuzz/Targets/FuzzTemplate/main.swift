// The template compiler: see FuzzHarness.template.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.template)
