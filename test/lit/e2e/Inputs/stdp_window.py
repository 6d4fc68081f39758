"""The STDP window: writes a network of pre/post neuron pairs that each fire once, at
Δt = t_post - t_pre apart (`make`), then checks the weight change of each pair against
the rule's closed form A+ exp(-Δt/τ+) (Δt > 0) or A- exp(Δt/τ-) (Δt < 0), and against the
trace decayed step by step instead of at once (`check`)."""
import csv
import math
import sys

DELTAS_MS = [1, 2, 3, 5, 10, 15, 20, 30, 40, 50, 70, 100]
TAU_PRE, TAU_POST = 16.8e-3, 33.7e-3  # s
A_PLUS, A_MINUS, W0 = 0.01, -0.0105, 0.5
DT = 1e-4


def pairs():
    for d in DELTAS_MS:
        yield "p%d" % d, d
        yield "m%d" % d, -d


def make():
    print("""neuron Once(at: ms = 0ms) {
  state x: real = 0
  dx/dt = -x / 1s
  spike when abs(t - at) < 0.5 * dt
}
synapse Pair(taupre: ms = %gms, taupost: ms = %gms, Aplus: real = %g, Aminus: real = %g) {
  state w: real = 0
  pre apre: real = 0
  post apost: real = 0
  dapre/dt = -apre / taupre
  dapost/dt = -apost / taupost
  on_pre { apre += Aplus  w += apost }
  on_post { apost += Aminus  w += apre }
}
network Window {""" % (TAU_PRE * 1e3, TAU_POST * 1e3, A_PLUS, A_MINUS))
    for name, d in pairs():
        t_pre = 200 if d > 0 else 200 - d
        print("  population pre_%s = 1 of Once(at = %gms)" % (name, t_pre))
        print("  population post_%s = 1 of Once(at = %gms)" % (name, t_pre + d))
        print("  connect pre_%s -> post_%s (w = %g) with Pair" % (name, name, W0))
    print("""}
simulation window { network = Window  dt = 0.1ms  duration = 400ms }""")


def check(path):
    w = {r["connection"]: float(r["w"]) for r in csv.DictReader(open(path))}
    worst = 0.0
    for name, d in pairs():
        got = w["pre_%s_to_post_%s" % (name, name)] - W0
        steps = abs(d) * 10
        if d > 0:
            closed = A_PLUS * math.exp(-d * 1e-3 / TAU_PRE)
            stepwise = A_PLUS * math.exp(-DT / TAU_PRE) ** steps
        else:
            closed = A_MINUS * math.exp(-abs(d) * 1e-3 / TAU_POST)
            stepwise = A_MINUS
            for _ in range(steps):
                stepwise *= math.exp(-DT / TAU_POST)
        for want, what in ((closed, "closed form"), (stepwise, "stepwise decay")):
            rel = abs(got - want) / abs(want)
            worst = max(worst, rel)
            if rel > 1e-9:
                sys.exit("Δt = %+d ms: weight change %.15g, %s %.15g (relative error %.2e)" %
                         (d, got, what, want, rel))
    print("stdp window: %d pairs agree (worst relative error %.1e)" % (len(w), worst))


if __name__ == "__main__":
    make() if sys.argv[1] == "make" else check(sys.argv[2])
