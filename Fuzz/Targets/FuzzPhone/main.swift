// The phone number parser: see FuzzHarness.phone.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.phone)
