#!/usr/bin/env python3
"""Independent SAT oracle for option domains of a DIMACS feature model.

    dimacs_oracle.py MODEL.dimacs sample N SEED [--max-set K] > SAMPLES.jsonl
    dimacs_oracle.py MODEL.dimacs compare SAMPLES.jsonl KILN_BINARY

sample: N lines of JSON, one per sample:
    {"set": {id: "0"|"1"}, "domains": {id: [values]}, "ms": float}
The prefix ("set") is 1..K (default 30) random variables valued as in a
random solution (random phases), so it is consistent. Value v of x is in the
domain iff CNF + prefix + x=v is satisfiable; "ms" is the time the oracle
took for that sample's domains.

compare: runs `KILN_BINARY model domains MODEL --json --set id=v ...` per
sample and counts the samples whose domains (or consistency) differ; the last
line printed is `N of M differ`.

Option ids follow Kiln's rule for DIMACS: the name after the number in a
`c N NAME` comment, if it is one word, has only letters/digits/`_`/`-`, is not all
digits, is not and/or/not/in, and no other variable's word is the same;
otherwise the variable number. Values are "0" and "1".

A peer of Kiln: shares no code with it; needs python-sat only.
"""

import argparse
import json
import random
import subprocess
import sys
import time

from pysat.solvers import Glucose4

from dimacs import parse_dimacs

KEYWORDS = {"and", "or", "not", "in"}


def option_ids(nvars, names):
    """ids[v] for v in 1..nvars (ids[0] unused)."""

    def word(v):
        name = names.get(v)
        if not name:
            return None
        # Kiln's rule: the whole comment name is one word.
        if len(name.split()) != 1:
            return None
        w = name
        ok = (not all(c in "0123456789" for c in w)
              and all(c.isalnum() or c in "_-" for c in w)
              and w not in KEYWORDS)
        return w if ok else None

    words = [None] + [word(v) for v in range(1, nvars + 1)]
    uses = {}
    for w in words:
        if w is not None:
            uses[w] = uses.get(w, 0) + 1
    ids = [None]
    for v in range(1, nvars + 1):
        w = words[v]
        ids.append(w if w is not None and uses[w] == 1 else str(v))
    if len(set(ids[1:])) != nvars:
        # A word equal to another variable's number: not expected in practice.
        print("warning: option ids are not unique", file=sys.stderr)
    return ids


class Oracle:
    def __init__(self, path):
        self.nvars, clauses, names = parse_dimacs(path)
        self.ids = option_ids(self.nvars, names)
        self.index = {s: v for v, s in enumerate(self.ids) if v}
        self.used = [False] * (self.nvars + 1)
        for c in clauses:
            for x in c:
                self.used[abs(x)] = True
        self.solver = Glucose4(bootstrap_with=clauses)
        # Values dead in the CNF alone are dead under every prefix: find once.
        self.dead = [[False, False] for _ in range(self.nvars + 1)]
        ok, seen = self.domains({})
        if ok:
            for v in range(1, self.nvars + 1):
                self.dead[v] = [not seen[v][0], not seen[v][1]]

    def random_solution(self, rng):
        n = self.nvars
        self.solver.set_phases([v if rng.random() < 0.5 else -v for v in range(1, n + 1)])
        if not self.solver.solve():
            return None
        m = self.solver.get_model()
        return [None] + [i < len(m) and m[i] > 0 for i in range(n)]

    def domains(self, prefix):
        """prefix: {var: bool}. Returns (consistent, [None, (has0, has1), ...])."""
        n, s = self.nvars, self.solver
        assume = [v if b else -v for v, b in prefix.items()]
        if not s.solve(assumptions=assume):
            return False, None
        seen = [[False, False] for _ in range(n + 1)]
        m = s.get_model()
        for i, x in enumerate(m):
            seen[i + 1][x > 0] = True
        # Values excluded without search: dead in the CNF alone, or the
        # negation of a literal the prefix implies by unit propagation.
        skip = [d[:] for d in self.dead]
        ok, implied = s.propagate(assumptions=assume)
        assert ok
        for x in implied:
            skip[abs(x)][x < 0] = True
        pending = [v for v in range(1, n + 1)
                   if self.used[v] and not (seen[v][0] or skip[v][0])
                   or self.used[v] and not (seen[v][1] or skip[v][1])]

        def prefer_unseen():
            # The next model should take as many values not seen yet as it can.
            s.set_phases([u if not seen[u][1] else -u for u in pending])

        prefer_unseen()
        for v in range(1, n + 1):
            if not self.used[v]:
                # In no clause: free, unless the prefix sets it.
                seen[v] = [True, True] if v not in prefix else [not prefix[v], prefix[v]]
                continue
            for b in (False, True):
                if seen[v][b] or skip[v][b]:
                    continue
                if s.solve(assumptions=assume + [v if b else -v]):
                    # A model supports all its values.
                    m = s.get_model()
                    for u in pending:
                        seen[u][m[u - 1] > 0] = True
                    pending = [u for u in pending if u > v
                               and not ((seen[u][0] or skip[u][0]) and (seen[u][1] or skip[u][1]))]
                    prefer_unseen()
        return True, seen

    def named(self, seen):
        return {self.ids[v]: [val for val, b in (("0", seen[v][0]), ("1", seen[v][1])) if b]
                for v in range(1, self.nvars + 1)}


def sample(o, n, seed, max_set):
    rng = random.Random(seed)
    times = []
    for _ in range(n):
        sol = o.random_solution(rng)
        if sol is None:
            sys.exit("the model is unsatisfiable")
        k = rng.randint(1, min(max_set, o.nvars))
        vs = rng.sample(range(1, o.nvars + 1), k)
        prefix = {v: sol[v] for v in vs}
        t = time.perf_counter()
        ok, seen = o.domains(prefix)
        ms = (time.perf_counter() - t) * 1000
        if not ok:
            sys.exit("BUG: a prefix taken from a solution is inconsistent")
        for v, b in prefix.items():
            assert seen[v][b] and not seen[v][not b], "prefix value missing from domain"
        line = {"set": {o.ids[v]: "1" if b else "0" for v, b in prefix.items()},
                "domains": o.named(seen), "ms": round(ms, 3)}
        sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        times.append(ms)
    times.sort()
    if times:
        print(f"{n} samples: oracle ms median {times[len(times) // 2]:.0f}, max {times[-1]:.0f}",
              file=sys.stderr)


def compare(model, samples_path, kiln, show):
    differ = total = 0
    kiln_ms = []
    with open(samples_path) as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                continue
            smp = json.loads(line)
            total += 1
            cmd = [kiln, "model", "domains", model, "--json"]
            for k, v in smp["set"].items():
                cmd += ["--set", f"{k}={v}"]
            t = time.perf_counter()
            try:
                p = subprocess.run(cmd, capture_output=True, text=True)
            except OSError as e:  # e.g. E2BIG: the command line is too long
                print(f"sample {ln}: cannot run kiln ({e}); counted as differing")
                differ += 1
                continue
            kiln_ms.append((time.perf_counter() - t) * 1000)
            try:
                out = json.loads(p.stdout)
            except ValueError:
                differ += 1
                if differ <= show:
                    print(f"sample {ln}: kiln exit {p.returncode}, no JSON: "
                          f"{(p.stderr or p.stdout).strip()[:300]}")
                continue
            want = {k: sorted(v) for k, v in smp["domains"].items()}
            got = {k: sorted(v) for k, v in out.get("domains", {}).items()}
            if not out.get("consistent", False):
                differ += 1
                if differ <= show:
                    print(f"sample {ln}: kiln says inconsistent; the oracle found a solution")
                continue
            bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
            if bad:
                differ += 1
                if differ <= show:
                    print(f"sample {ln}: {len(bad)} options differ (set {len(smp['set'])}, "
                          f"oracle {smp['ms']:.0f} ms, kiln {kiln_ms[-1]:.0f} ms):")
                    for k in bad[:8]:
                        print(f"  {k}: oracle {want.get(k)} kiln {got.get(k)}"
                              + (" (selected)" if k in smp["set"] else ""))
    if kiln_ms:
        kiln_ms.sort()
        print(f"kiln wall ms per call: median {kiln_ms[len(kiln_ms) // 2]:.0f}, "
              f"max {kiln_ms[-1]:.0f} (includes process start and model load)")
    print(f"{differ} of {total} differ")
    return differ


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("sample")
    s.add_argument("n", type=int)
    s.add_argument("seed", type=int)
    s.add_argument("--max-set", type=int, default=30)
    c = sub.add_parser("compare")
    c.add_argument("samples")
    c.add_argument("kiln")
    c.add_argument("--show", type=int, default=5, help="differing samples to detail")
    a = ap.parse_args()
    if a.mode == "sample":
        t = time.perf_counter()
        o = Oracle(a.model)
        print(f"{o.nvars} variables; load and dead values in the CNF alone: "
              f"{time.perf_counter() - t:.1f}s", file=sys.stderr)
        sample(o, a.n, a.seed, a.max_set)
    else:
        sys.exit(1 if compare(a.model, a.samples, a.kiln, a.show) else 0)


if __name__ == "__main__":
    main()
