"""Writes a neuron with N independent leaky state variables (N from argv) to stdout."""
import sys

n = int(sys.argv[1])
lines = ["neuron Big(tau: ms = 10ms) {"]
lines += [f"  state v{i}: mV = {i}mV" for i in range(n)]
lines += [f"  dv{i}/dt = -v{i} / tau" for i in range(n)]
lines += ["  spike when v0 > 1000mV", "}"]
lines += ["network N {", "  population p = 2 of Big", "}"]
lines += ["simulation s {", "  network = N", "  dt = 0.1ms", "  duration = 1ms", "}"]
print("\n".join(lines))
