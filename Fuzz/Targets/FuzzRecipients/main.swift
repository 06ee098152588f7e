// The recipient reader: see FuzzHarness.recipients.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.recipients)
