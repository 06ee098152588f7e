// The webhook's body parsers: see FuzzHarness.webhook.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.webhook)
