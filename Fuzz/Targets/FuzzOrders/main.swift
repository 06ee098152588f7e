// The order reader: see FuzzHarness.orders.
import FuzzHarness
import FuzzSupport

runFuzzer(FuzzHarness.orders)
