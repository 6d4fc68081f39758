"""summary.json of examples/izhikevich2006.snn: excitatory neurons fire at a few Hz, the
inhibitory ones faster, and STDP moved the excitatory weights away from their common start
(6 mV) while keeping them within [0, 10 mV]."""
import json
import sys

s = json.load(open(sys.argv[1]))
rate = {p["name"]: p["rate_hz"] for p in s["populations"]}
assert 1 < rate["Exc"] < 20 and rate["Inh"] > rate["Exc"], rate
for conn in ("Exc_to_Exc", "Exc_to_Inh"):
    w = s["plastic_synapses"][conn]["w"]
    assert 0 <= w["min"] < 0.006 < w["max"] <= 0.01, (conn, w)
print("izhikevich2006: Exc %.1f Hz, Inh %.1f Hz; weights spread within [0, 10 mV]" %
      (rate["Exc"], rate["Inh"]))
