#!/usr/bin/env python3
"""bench/mixed-bodies.py: the requests of bench/mixed.sh, from a loaded
registry.

  bench/mixed-bodies.py DB PATIENTS COUNT OUTDIR [--seed N]

DB is a registry loaded by bench/match.sh (cr-admin load of
bench/gen-patients.py's patients, source record ids rec-0-org ... rec-N-1-org);
PATIENTS how many it holds.  Picks COUNT of them at random, reads each
one's stored Patient (through the SRI's unique index, no scan) and writes,
one a line, into OUTDIR:

  read.txt   /fhir/Patient/{id}
  gd.txt     a $GetDemographics Bundle by the patient's PHN
  fc.txt     a $FindCandidates Bundle by family, given, gender, birth date
             (the IG's example query)
  write.txt  a $RevisePatient Bundle: the patient as its source would send
             it, with @MSG@ for the messageId and @PHONE@ for the phone
             (mixed.lua fills both per request)

($match bodies come from bench/match-bodies.py, as for match.sh.)"""
import argparse
import json
import os
import random
import sqlite3

SRI = ("https://health.gov.bc.ca/fhir/NamingSystem/"
       "ca-bc-bench-source-patient-id")
PHN = ("https://fhir.infoway-inforoute.ca/NamingSystem/"
       "ca-bc-patient-healthcare-id")
BP = ("http://hlth.gov.bc.ca/fhir/client/StructureDefinition/"
      "bc-business-period-extension")


def bundle(resource, params):
    return json.dumps({
        "resourceType": "Bundle", "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:p1",
                   "resource": {"resourceType": "Parameters",
                                "parameter": params}},
                  {"fullUrl": "urn:uuid:q1", "resource": resource}]},
        separators=(",", ":"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("patients", type=int)
    ap.add_argument("count", type=int)
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=16)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    con = sqlite3.connect("file:%s?mode=ro" % a.db, uri=True)
    picks = rng.sample(range(a.patients), min(a.count, a.patients))
    out = {k: open(os.path.join(a.outdir, k + ".txt"), "w")
           for k in ("read", "gd", "fc", "write")}
    n = 0
    for i in picks:
        row = con.execute(
            "SELECT p.id, p.resource FROM cr_identifier i"
            " JOIN cr_patient p ON p.id = i.patient_id"
            " WHERE i.system = ? AND i.value = ?"
            " AND p.replaced_by IS NULL", (SRI, "rec-%d-org" % i)).fetchone()
        if row is None:
            continue
        pid, res = row[0], json.loads(row[1])
        phn = [x["value"] for x in res.get("identifier", [])
               if x.get("system") == PHN]
        name = (res.get("name") or [{}])[0]
        if not phn or not name.get("family") or not name.get("given") \
           or not res.get("birthDate"):
            continue
        n += 1
        out["read"].write("/fhir/Patient/%s\n" % pid)
        out["gd"].write(bundle(
            {"resourceType": "Patient",
             "identifier": [{"system": PHN, "value": phn[0]}]},
            [{"name": "messageId", "valueString": "gd-%d" % n},
             {"name": "history", "valueBoolean": False}]) + "\n")
        out["fc"].write(bundle(
            {"resourceType": "Patient",
             "name": [{"use": "usual", "family": name["family"],
                       "given": name["given"][:1]}],
             "gender": res.get("gender", "unknown"),
             "birthDate": res["birthDate"]},
            [{"name": "messageId", "valueString": "fc-%d" % n},
             {"name": "identifiersOnly", "valueBoolean": False}]) + "\n")
        snap = {"resourceType": "Patient",
                "extension": [{"url": BP,
                               "valuePeriod": {"start": "2024-06-01"}}],
                "identifier": [{"use": "official", "system": SRI,
                                "value": "rec-%d-org" % i}],
                "name": [{"use": "official", "family": name["family"],
                          "given": name["given"]}],
                "telecom": [{"system": "phone", "use": "home",
                             "value": "@PHONE@"}],
                "gender": res.get("gender", "unknown"),
                "birthDate": res["birthDate"]}
        if res.get("address"):
            snap["address"] = [{k: v for k, v in res["address"][0].items()
                                if k in ("use", "type", "line", "city",
                                         "state", "postalCode", "country")}]
        out["write"].write(bundle(
            snap, [{"name": "messageId", "valueString": "@MSG@"}]) + "\n")
    for f in out.values():
        f.close()
    if n == 0:
        raise SystemExit("mixed-bodies: no patient found in %s" % a.db)


if __name__ == "__main__":
    main()
