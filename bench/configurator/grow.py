#!/usr/bin/env python3
"""Grow a DIMACS feature model into a larger one of the same shape.

    grow.py SRC OUT --copies K --cross N --pad P --seed S [--refs R] [--shuffle]

OUT holds K renamed copies of SRC (copy k's variable v becomes v + k*n; copy 0
keeps SRC's comment names, copy k >= 1 names it NAME__k), then N cross clauses
of 2-3 literals linking copy k to copy k+1, then P padding clauses.

* Cross clauses are satisfied by R reference solutions of the K copies (found
  by pysat with random phases), so OUT stays satisfiable, and each is checked
  not to be implied by what came before it (it removes solutions).
* Padding clauses are resolvents (2..4 literals, no duplicates) of clauses
  already present, so they are implied by construction: the solution set is
  unchanged. They are re-checked with the SAT solver anyway (--check).

Deterministic for a given seed. Independent of Kiln's code (a peer tool):
needs python-sat only.
"""

import argparse
import random
import sys
import time

from pysat.solvers import Cadical153

from dimacs import parse_dimacs


def shift(lit, off):
    return lit + off if lit > 0 else lit - off


def renamed(name, k):
    if k == 0:
        return name
    w = name.split(None, 1)
    return f"{w[0]}__{k}" + (" " + w[1] if len(w) > 1 else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--copies", type=int, default=6)
    ap.add_argument("--cross", type=int, default=0)
    ap.add_argument("--pad", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--refs", type=int, default=4, help="reference solutions (default 4)")
    ap.add_argument("--check", type=int, default=-1,
                    help="padding clauses re-checked as implied by SAT (default -1: all)")
    ap.add_argument("--shuffle", action="store_true",
                    help="shuffle the order of all clauses in OUT")
    a = ap.parse_args()
    if a.copies < 1:
        sys.exit("--copies must be >= 1")
    if a.cross and a.copies < 2:
        sys.exit("--cross needs --copies >= 2")
    rng = random.Random(a.seed)
    t0 = time.time()

    n, src, names = parse_dimacs(a.src)
    K = a.copies
    nv = n * K
    base = []
    for k in range(K):
        off = k * n
        for c in src:
            base.append([shift(x, off) for x in c])
    out_names = {}
    for k in range(K):
        for v, name in names.items():
            if 1 <= v <= n:
                out_names[v + k * n] = renamed(name, k)
    if len(set(out_names.values())) != len(set(names.values())) * K:
        print("warning: renamed comment names collide", file=sys.stderr)

    solver = Cadical153(bootstrap_with=base)
    # Variables that occur in SRC's clauses (cross clauses use only these).
    used = sorted({abs(x) for c in src for x in c})

    # Reference solutions: random phases over the whole conjunction.
    refs = []
    for _ in range(a.refs if a.cross else 0):
        solver.set_phases([v if rng.random() < 0.5 else -v for v in range(1, nv + 1)])
        if not solver.solve():
            sys.exit("SRC (so every copy) is unsatisfiable")
        m = solver.get_model()
        refs.append([False] + [i < len(m) and m[i] > 0 for i in range(nv)])

    def true_in(ref, lit):
        return ref[lit] if lit > 0 else not ref[-lit]

    # Cross clauses.
    cross, tries = [], 0
    keys = {frozenset(c) for c in base}
    while len(cross) < a.cross:
        tries += 1
        if tries > 2000 * max(1, a.cross):
            sys.exit(f"gave up after {tries} tries with {len(cross)} cross clauses")
        k = rng.randrange(K - 1)
        size = rng.choice((2, 3))
        vs = [used[rng.randrange(len(used))] + k * n,
              used[rng.randrange(len(used))] + (k + 1) * n]
        if size == 3:
            vs.append(used[rng.randrange(len(used))] + rng.choice((k, k + 1)) * n)
        if len(set(vs)) != len(vs):
            continue
        c = [v if rng.random() < 0.5 else -v for v in vs]
        if not all(any(true_in(r, x) for x in c) for r in refs):
            continue
        if frozenset(c) in keys:
            continue
        # Not implied: some solution so far falsifies it.
        if not solver.solve(assumptions=[-x for x in c]):
            continue
        cross.append(c)
        keys.add(frozenset(c))
        solver.add_clause(c)
    t_cross = time.time() - t0

    # Padding: resolvents of clauses present (and of earlier resolvents).
    pool = base + cross
    occ = {}
    for i, c in enumerate(pool):
        for x in c:
            occ.setdefault(x, []).append(i)
    small = [i for i, c in enumerate(pool) if len(c) <= 4]
    pad, tries = [], 0
    while len(pad) < a.pad:
        tries += 1
        if tries > 200 * a.pad + 10000:
            print(f"warning: only {len(pad)} padding clauses found", file=sys.stderr)
            break
        c = pool[small[rng.randrange(len(small))]]
        lit = c[rng.randrange(len(c))]
        partners = occ.get(-lit)
        if not partners:
            continue
        d = pool[partners[rng.randrange(len(partners))]]
        r = set(c)
        r.discard(lit)
        r.update(y for y in d if y != -lit)
        if len(r) < 2 or len(r) > 4 or any(-y in r for y in r):
            continue
        key = frozenset(r)
        if key in keys:
            continue
        keys.add(key)
        r = sorted(r, key=abs)
        rng.shuffle(r)
        idx = len(pool)
        pool.append(r)
        small.append(idx)
        for x in r:
            occ.setdefault(x, []).append(idx)
        pad.append(r)
    t_pad = time.time() - t0 - t_cross

    # Checks: a sample of padding is implied; references satisfy everything.
    sample = (range(len(pad)) if a.check < 0
              else rng.sample(range(len(pad)), min(a.check, len(pad))))
    bad = [pad[i] for i in sample if solver.solve(assumptions=[-x for x in pad[i]])]
    if bad:
        sys.exit(f"BUG: {len(bad)} sampled padding clauses are not implied, e.g. {bad[0]}")
    for r in refs:
        for c in pool:
            if not any(true_in(r, x) for x in c):
                sys.exit(f"BUG: reference solution falsifies {c}")
    sat = solver.solve()
    solver.delete()
    if not sat:
        sys.exit("BUG: result is unsatisfiable")

    clauses = base + cross + pad
    if a.shuffle:
        rng.shuffle(clauses)
    with open(a.out, "w") as f:
        for v in sorted(out_names):
            f.write(f"c {v} {out_names[v]}\n")
        f.write(f"p cnf {nv} {len(clauses)}\n")
        for c in clauses:
            f.write(" ".join(map(str, c)) + " 0\n")
    print(f"vars {nv} clauses {len(clauses)} (copies {len(base)}, cross {len(cross)}, "
          f"padding {len(pad)}; {len(sample)} padding checked implied) "
          f"in {time.time() - t0:.1f}s (cross {t_cross:.1f}s, padding {t_pad:.1f}s)")


if __name__ == "__main__":
    main()
