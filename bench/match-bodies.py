#!/usr/bin/env python3
"""bench/match-bodies.py: $match request bodies for bench/match.sh.

  bench/match-bodies.py PATIENTS.ndjson COUNT [--seed N] > bodies.ndjson

Picks COUNT patients at random (reservoir sampling, one pass over the
file) and writes one Parameters body per line: half of them the stored
patient as it is (a certain match), half with a misspelt family name, a
digit of the birth date changed and another phone (probable or possible
matches).  Identifiers are left out, as a client's query would."""
import argparse
import datetime
import json
import random


def misspell(rng, s):
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s) - 1)
    return s[:i] + s[i + 1:]


def other_day(d):
    """The date with one digit of the day changed, still a valid date."""
    for pos in (9, 8):
        for digit in "0123456789":
            cand = d[:pos] + digit + d[pos + 1:]
            if cand == d:
                continue
            try:
                datetime.date.fromisoformat(cand)
                return cand
            except ValueError:
                pass
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("patients")
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    sample = []
    with open(a.patients, encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if len(sample) < a.count:
                sample.append(line)
            else:
                j = rng.randrange(n + 1)
                if j < a.count:
                    sample[j] = line
    for k, line in enumerate(sample):
        p = json.loads(line)
        p.pop("identifier", None)
        if k % 2:
            for name in p.get("name", []):
                if "family" in name:
                    name["family"] = misspell(rng, name["family"])
            if "birthDate" in p:
                p["birthDate"] = other_day(p["birthDate"])
            for t in p.get("telecom", []):
                if t.get("system") == "phone":
                    t["value"] = "604555%04d" % rng.randrange(10000)
        body = {"resourceType": "Parameters", "parameter": [
            {"name": "resource", "resource": p},
            {"name": "count", "valueInteger": 10}]}
        print(json.dumps(body))


if __name__ == "__main__":
    main()
