#!/usr/bin/env python3
"""example_policy.py - a deepedge planning policy in Python (standard library only).

    deepedge plan SCENARIO --policy 'ext:python3 policies/example_policy.py'

It speaks deepedge's external-policy protocol (version 1, policies/README.md) on its
stdin and stdout, and plans by the rule of deepedge's C policy `proportional`
(core/de_planner.c), step for step, so that both give the same shares:

  1. every device that is up is a candidate; its cap is min(its memory limit for the
     job's network, the global batch B);
  2. its isolated throughput is cap / step time at cap, the step time asked of deepedge's
     predictor without LC load ("lc_load": false), 0 when the step time is not finite;
  3. the candidates in decreasing throughput (ties: lower link latency, then scenario
     order); the k = min(candidates, B) first train;
  4. B is split in proportion to their throughput by largest remainders: floor of each
     ideal share (at least 1, at most the cap), then one sample at a time to the largest
     remainder (ties: the higher throughput), first in that order.

Everything is read from the plan request and the predictor's answers; nothing about the
cluster is hard-coded. Anything it writes to stderr appears in deepedge's stderr.
"""
import json
import math
import sys

PROTOCOL = 1


class Deepedge:
    """The conversation: one JSON object a line each way."""

    def __init__(self, rx=sys.stdin, tx=sys.stdout):
        self.rx, self.tx, self.next_id = rx, tx, 0

    def send(self, msg):
        self.tx.write(json.dumps(msg, allow_nan=False) + "\n")
        self.tx.flush()

    def receive(self):
        line = self.rx.readline()
        if not line:  # deepedge closed our stdin: it is done with us
            return None
        return json.loads(line)

    def query(self, what, **fields):
        """Asks deepedge's predictor; returns the answer (a dict)."""
        self.next_id += 1
        self.send(dict(type="query", id=self.next_id, query=what, **fields))
        a = self.receive()
        if a is None or a.get("type") != "answer" or a.get("id") != self.next_id:
            raise SystemExit("example_policy: expected the answer to query %d, got %r" % (self.next_id, a))
        return a

    def step_time(self, device, batch, lc_load=True):
        t = self.query("step_time", device=device, batch=batch, lc_load=lc_load)["step_time_s"]
        return math.inf if t is None else t  # null: the device cannot train


def largest_remainder(w, cap, B):
    """B split in proportion to w, each share in [1, cap[i]]: deepedge's fill_proportional."""
    n = len(w)
    if sum(cap) < B or n > B:
        return None
    sw = 0.0
    for x in w:  # in order, as C adds (Python's sum() of floats may round differently)
        sw += x
    b, frac, left = [0] * n, [0.0] * n, B
    for i in range(n):
        ideal = B * w[i] / sw if sw > 0 else B / n
        b[i] = min(max(math.floor(ideal), 1), cap[i])
        frac[i] = ideal - math.floor(ideal)
        left -= b[i]
    while left < 0:  # the minimum of one sample overshot: take from the largest
        k = 0
        for i in range(1, n):
            if b[i] > b[k]:
                k = i
        b[k] -= 1
        left += 1
    while left > 0:
        k = -1
        for i in range(n):
            if b[i] < cap[i] and (k < 0 or frac[i] > frac[k] or (frac[i] == frac[k] and w[i] > w[k])):
                k = i
        b[k] += 1
        frac[k] -= 1.0
        left -= 1
    return b


def plan(de, req):
    """The reply to one plan request: {"type": "plan", "shares": [...], "note": ...}."""
    B = req["job"]["global_batch"]
    latency = {l["name"]: l["latency_s"] for l in req["links"]}
    cands = []
    for index, d in enumerate(req["devices"]):
        if not d["up"]:
            continue
        cap = min(d["max_batch"], B)
        t = de.step_time(d["name"], cap, lc_load=False)
        speed = cap / t if math.isfinite(t) and t > 0 else 0.0
        cands.append((d["name"], cap, speed, latency[d["link"]], index))
    notes = []
    if not cands:
        return {"type": "plan", "shares": [], "note": "no plan: no device is up"}
    cands.sort(key=lambda c: (-c[2], c[3], c[4]))
    n = len(cands)
    k = min(n, B)
    if k < n:
        notes.append("proportional: %d devices but global batch %d: the %d fastest train" % (n, B, k))
    b = largest_remainder([c[2] for c in cands[:k]], [c[1] for c in cands[:k]], B)
    if b is None:
        notes.append("no plan: the %d devices up hold at most %d samples per iteration; global batch is %d"
                     % (n, sum(c[1] for c in cands), B))
        return {"type": "plan", "shares": [], "note": "\n".join(notes)}
    msg = {"type": "plan", "shares": [{"device": c[0], "batch": x} for c, x in zip(cands[:k], b)]}
    if notes:
        msg["note"] = "\n".join(notes)
    return msg


def main():
    de = Deepedge()
    hello = de.receive()
    if hello is None or hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL:
        raise SystemExit("example_policy: expected deepedge's hello (protocol %d), got %r" % (PROTOCOL, hello))
    de.send({"type": "hello", "protocol": PROTOCOL, "name": "example-proportional"})
    while True:
        req = de.receive()
        if req is None:
            return 0
        if req.get("type") != "plan_request":
            raise SystemExit("example_policy: expected a plan_request, got %r" % (req,))
        de.send(plan(de, req))


if __name__ == "__main__":
    sys.exit(main())
