"""Reading DIMACS CNF for the peer scripts: variables, clauses and the
`c N NAME` comment names (FeatureIDE's convention)."""

import sys


def parse_dimacs(path):
    """(nvars, clauses, names): names maps variable -> comment text."""
    nvars = None
    clauses, cur, names = [], [], {}
    with open(path) as f:
        for line in f:
            t = line.strip()
            if not t:
                continue
            if t[0] == "c":
                rest = t[1:].strip().split(None, 1)
                if len(rest) == 2 and rest[0].isdigit() and rest[1].strip():
                    names[int(rest[0])] = rest[1].strip()
                continue
            if t[0] == "%":
                break
            if t[0] == "p":
                nvars = int(t.split()[2])
                continue
            for w in t.split():
                x = int(w)
                if x == 0:
                    clauses.append(cur)
                    cur = []
                else:
                    cur.append(x)
    if cur:
        clauses.append(cur)
    if nvars is None:
        sys.exit(f"{path}: no `p cnf` line")
    return nvars, clauses, names
