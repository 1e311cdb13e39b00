#!/usr/bin/env python3
"""bench/gen-patients.py: synthetic British Columbia patients as FHIR Patient
NDJSON, for the matching benchmark (bench/match.sh) and for checking the
matcher on data with known duplicates.

  bench/gen-patients.py COUNT [--seed N] [--dup-rate R] [--max-dups K]
                              [--febrl-ids]

COUNT originals are written, one JSON object a line.  Names follow a long-
tailed (Zipf) distribution over a list of common Canadian names plus tens
of thousands of generated ones, so that common names are common (a block
on "Smith" is big) and most names are rare, as in a real registry; birth
dates are uniform over 1920-2024; addresses are house number, street,
city and a postal code of the city's forward sortation areas; phones use
BC area codes.

With --dup-rate R, a share R of the originals get 1 to K duplicates each
(--max-dups, default 1), corrupted the way the FEBRL generator corrupts
records (Christen, "Probabilistic data generation for deduplication and
data linkage", 2005): one to three modifications per duplicate among
typing errors (insert, delete, substitute, transpose), OCR-like and
phonetic misspellings, nicknames, inserted or removed spaces, missing
values, exchanged given and family names, exchanged address lines,
exchanged day and month, a wrong digit or a wholly different birth date,
postal code typos, other phones.  Every record carries its id (rec-N-org
or rec-N-dup-K) as a source record identifier of a "bench" source system;
with --febrl-ids as an identifier of system urn:febrl:rec instead, which
tools/cr-match-eval --ndjson uses as ground truth (and never sends to
$match).  Output is deterministic for a given seed and COUNT.
"""
import argparse
import json
import random
import sys

COMMON_FAMILY = """smith brown tremblay martin roy wilson macdonald gagnon johnson
taylor campbell anderson leblanc lee thompson white williams jones clark young
wong chen li liu wang zhang nguyen tran le pham singh gill sandhu dhaliwal sidhu
grewal patel shah kim park choi garcia rodriguez hernandez lopez gonzalez fraser
stewart murray reid scott robertson thomson morrison paul miller davis moore
walker hall allen king wright hill green adams baker nelson carter mitchell
roberts turner phillips parker evans edwards collins morris rogers reed cook
morgan bell bailey cooper richardson cox howard ward peterson gray watson
brooks kelly sanders price bennett wood barnes ross henderson coleman jenkins
perry powell long patterson hughes flores washington butler simmons foster
bryant alexander russell griffin hayes myers ford hamilton graham sullivan
wallace woods cole west jordan owens reynolds fisher ellis harrison gibson
mcdonald cruz marshall ortiz gomez murphy kennedy wells alvarez tanaka sato
suzuki takahashi watanabe ito yamamoto nakamura kobayashi kato dubois lefebvre
bouchard gauthier morin lavoie fortin gagne ouellet pelletier belanger
bergeron levesque girard poirier cote caron beaulieu cloutier fournier
thibault mercier dupuis bernier lambert chan ho ng lam yip cheung leung kwan
mak tse law lau chow yeung sharma gupta kumar verma mehta joshi reddy rao
khan ali ahmed hussain malik chaudhry mohammed hassan ibrahim"""
COMMON_FEMALE = """olivia emma charlotte amelia sophia ava chloe emily harper
abigail isla hannah grace lily zoe mia ella avery madison sarah jessica
jennifer linda patricia mary susan karen nancy margaret dorothy helen mei ying
priya simran harpreet fatima aisha yuna jiwoo anh linh maria camille chantal
aiyana elizabeth catherine katherine rebecca laura michelle kimberly amanda
melissa stephanie nicole heather rachel samantha christine julie anne marie
lisa angela deborah barbara joan ruth sandra donna carol sharon diane kathleen
alice evelyn florence irene jean judith rose victoria natalie brooke taylor
kayla jasmine leah megan sydney alexis paige brianna kaitlyn morgan"""
COMMON_MALE = """liam noah oliver william benjamin lucas ethan jack leo logan
james henry owen jacob daniel matthew david robert john michael richard thomas
charles joseph kevin brian gordon donald kenneth wei jun hao arjun gurpreet
harjit rajesh omar ali minho jihoon minh tuan jose mathieu etienne dakota
christopher anthony mark steven paul andrew joshua ryan jason justin brandon
nicholas tyler aaron adam nathan zachary kyle eric jeffrey scott gregory
patrick frank raymond peter gary dennis jerry walter harold douglas arthur
carl roger keith lawrence albert wayne ralph eugene russell bruce alan
philip louis bobby johnny samuel edward george"""
NICKNAMES = {"robert": "bob", "william": "bill", "elizabeth": "liz",
             "margaret": "peggy", "richard": "dick", "james": "jim",
             "michael": "mike", "katherine": "kate", "catherine": "cathy",
             "christopher": "chris", "thomas": "tom", "joseph": "joe",
             "daniel": "dan", "matthew": "matt", "jennifer": "jen",
             "patricia": "pat", "rebecca": "becky", "anthony": "tony",
             "edward": "ted", "kenneth": "ken", "samuel": "sam",
             "benjamin": "ben", "nicholas": "nick", "alexander": "alex",
             "victoria": "vicky", "deborah": "debbie", "susan": "sue"}
CITIES = [  # name, weight (population share), forward sortation areas
    ("Vancouver", 66, "V5K V5L V5M V5N V5P V5R V5S V5T V5V V5W V5X V5Y V5Z V6A V6B V6C V6E V6G V6H V6J V6K V6L V6M V6N V6P V6R V6S V6T V6Z"),
    ("Surrey", 57, "V3R V3S V3T V3V V3W V3X V3Z V4A V4N V4P"),
    ("Burnaby", 25, "V5A V5B V5C V5E V5G V5H V5J"),
    ("Richmond", 21, "V6V V6W V6X V6Y V7A V7B V7C V7E"),
    ("Abbotsford", 15, "V2S V2T V3G V4X"),
    ("Coquitlam", 15, "V3B V3C V3E V3J V3K"),
    ("Kelowna", 14, "V1P V1V V1W V1X V1Y V1Z"),
    ("Langley", 13, "V1M V2Y V2Z V3A V4W"),
    ("Saanich", 12, "V8N V8P V8X V8Y V8Z V9E"),
    ("Delta", 11, "V4C V4E V4G V4K V4L V4M"),
    ("Nanaimo", 10, "V9R V9S V9T V9V V9X"),
    ("Kamloops", 10, "V1S V2B V2C V2E V2H"),
    ("Chilliwack", 9, "V2P V2R V4Z"),
    ("Maple Ridge", 9, "V2W V2X V4R"),
    ("Victoria", 9, "V8R V8S V8T V8V V8W V9A"),
    ("New Westminster", 8, "V3L V3M"),
    ("Prince George", 8, "V2K V2L V2M V2N"),
    ("North Vancouver", 8, "V7G V7H V7J V7K V7L V7M V7N V7P V7R"),
    ("Port Coquitlam", 6, "V3B V3C V3E"),
    ("Vernon", 4, "V1B V1H V1T"),
    ("Penticton", 3, "V2A"),
    ("Courtenay", 3, "V9J V9N"),
    ("Campbell River", 3, "V9H V9W"),
    ("Cranbrook", 2, "V1C"),
    ("Fort St. John", 2, "V1J"),
    ("Terrace", 1, "V8G"),
    ("Nelson", 1, "V1L"),
    ("Prince Rupert", 1, "V8J"),
    ("Williams Lake", 1, "V2G"),
    ("Quesnel", 1, "V2J"),
]
STREET_TYPES = ["St", "Ave", "Rd", "Dr", "Cres", "Pl", "Way", "Blvd", "Ct",
                "Lane"]
AREA = ["250", "604", "778", "236", "672"]
ONSET = ["b", "br", "c", "ch", "d", "f", "g", "gr", "h", "j", "k", "kr", "l",
         "m", "n", "p", "r", "s", "sh", "st", "t", "tr", "v", "w", "z"]
NUCLEUS = ["a", "e", "i", "o", "u", "ai", "ea", "ie", "ou", "y"]
CODA = ["", "", "n", "r", "l", "s", "t", "m", "nd", "rk", "ck", "ng", "x"]


def word(rng, syllables):
    return "".join(rng.choice(ONSET) + rng.choice(NUCLEUS) + rng.choice(CODA)
                   for _ in range(syllables))


class Zipf:
    """Items drawn with weight 1 / rank^s (cumulative table)."""

    def __init__(self, items, s=1.0):
        self.items = items
        acc, self.cum = 0.0, []
        for r in range(len(items)):
            acc += 1.0 / (r + 1) ** s
            self.cum.append(acc)
        self.total = acc

    def pick(self, rng):
        import bisect
        return self.items[bisect.bisect_left(self.cum,
                                             rng.random() * self.total)]


def build_tables(rng):
    fam = COMMON_FAMILY.split()
    seen = set(fam)
    while len(fam) < 60000:
        w = word(rng, rng.choice([2, 2, 3]))
        if w not in seen:
            seen.add(w)
            fam.append(w)
    female, male = COMMON_FEMALE.split(), COMMON_MALE.split()
    for lst in (female, male):
        seen = set(lst)
        while len(lst) < 3000:
            w = word(rng, 2) + rng.choice(["a", "ia", "elle", "", "o", "an"])
            if w not in seen:
                seen.add(w)
                lst.append(w)
    streets = []
    seen = set()
    while len(streets) < 8000:
        w = word(rng, rng.choice([1, 2, 2, 3]))
        if w not in seen:
            seen.add(w)
            streets.append(w)
    # Exponents below 1 give the shares seen in Canadian registries: the
    # commonest family name about 1.5 %, the commonest given name 3 %.
    return (Zipf(fam, 0.75), Zipf(female, 0.75), Zipf(male, 0.75),
            Zipf(streets, 0.6))


def original(rng, tables, n):
    fam_z, fem_z, male_z, street_z = tables
    sex = rng.choice(["female", "male"])
    given = (fem_z if sex == "female" else male_z).pick(rng)
    middle = (fem_z if sex == "female" else male_z).pick(rng) \
        if rng.random() < 0.3 else None
    family = fam_z.pick(rng)
    year = rng.randint(1920, 2024)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28 if month == 2 else 30 if month in (4, 6, 9, 11)
                      else 31)
    city, _, fsas = rng.choices(CITIES, weights=[c[1] for c in CITIES])[0]
    fsa = rng.choice(fsas.split())
    postal = "%s %d%s%d" % (fsa, rng.randint(0, 9),
                            chr(ord("A") + rng.randint(0, 25)),
                            rng.randint(0, 9))
    # Apartments and short streets have small numbers, suburbs long ones.
    house = str(rng.randint(1, 300) if rng.random() < 0.3
                else rng.randint(100, 19999))
    street = "%s %s" % (street_z.pick(rng).title(), rng.choice(STREET_TYPES))
    phone = "%s%03d%04d" % (rng.choice(AREA), rng.randint(200, 999),
                            rng.randint(0, 9999))
    return {"given": given, "middle": middle, "family": family, "sex": sex,
            "birth": "%04d-%02d-%02d" % (year, month, day),
            "house": house, "street": street, "unit": None, "city": city,
            "postal": postal, "phone": phone}


# --- FEBRL-style corruption -------------------------------------------------
KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"
OCR = {"m": "rn", "rn": "m", "b": "h", "e": "c", "g": "q", "i": "l",
       "cl": "d", "u": "v"}
PHONETIC = [("ph", "f"), ("f", "ph"), ("c", "k"), ("k", "c"), ("ee", "ea"),
            ("ie", "y"), ("y", "ie"), ("th", "t"), ("sch", "sh"),
            ("ck", "k"), ("ou", "ow"), ("mc", "mac"), ("son", "sen")]


def typo(rng, s):
    if len(s) < 2:
        return s
    i = rng.randrange(len(s))
    kind = rng.choice(["ins", "del", "sub", "swap"])
    if kind == "ins":
        return s[:i] + rng.choice(KEYBOARD) + s[i:]
    if kind == "del":
        return s[:i] + s[i + 1:]
    if kind == "sub":
        return s[:i] + rng.choice(KEYBOARD) + s[i + 1:]
    i = min(i, len(s) - 2)
    return s[:i] + s[i + 1] + s[i] + s[i + 2:]


def misspell(rng, s):
    r = rng.random()
    if r < 0.55:
        return typo(rng, s)
    if r < 0.7:
        for a, b in rng.sample(list(OCR.items()), len(OCR)):
            if a in s:
                return s.replace(a, b, 1)
    if r < 0.9:
        for a, b in rng.sample(PHONETIC, len(PHONETIC)):
            if a in s:
                return s.replace(a, b, 1)
    if len(s) > 3:                       # a space inserted
        i = rng.randrange(1, len(s) - 1)
        return s[:i] + " " + s[i:]
    return typo(rng, s)


def corrupt(rng, rec, tables):
    d = dict(rec)
    mods = rng.choice([1, 1, 2, 2, 2, 3, 3])
    fields = ["given", "family", "birth", "street", "city", "postal",
              "house", "phone", "swap_names", "swap_lines", "missing"]
    weights = [16, 17, 6, 18, 12, 8, 8, 8, 2, 3, 10]
    for _ in range(mods):
        f = rng.choices(fields, weights=weights)[0]
        if f == "given":
            g = d["given"] or ""
            if g in NICKNAMES and rng.random() < 0.3:
                d["given"] = NICKNAMES[g]
            elif rng.random() < 0.1:
                fem, male = tables[1], tables[2]
                d["given"] = (fem if d["sex"] == "female" else male).pick(rng)
            elif g:
                d["given"] = misspell(rng, g)
        elif f == "family":
            if rng.random() < 0.1:
                d["family"] = tables[0].pick(rng)
            elif d["family"]:
                d["family"] = misspell(rng, d["family"])
        elif f == "birth" and d["birth"]:
            y, m, dd = d["birth"].split("-")
            r = rng.random()
            if r < 0.3 and int(dd) <= 12:
                d["birth"] = "%s-%s-%s" % (y, dd, m)
            elif r < 0.8:
                digits = list(y + m + dd)
                i = rng.randrange(8)
                digits[i] = str(rng.randint(0, 9))
                s = "".join(digits)
                mm, day = int(s[4:6]), int(s[6:8])
                if 1 <= mm <= 12 and 1 <= day <= 28 and s[:4] <= "2024":
                    d["birth"] = "%s-%s-%s" % (s[:4], s[4:6], s[6:])
            else:
                d["birth"] = "%04d-%02d-%02d" % (rng.randint(1920, 2024),
                                                 rng.randint(1, 12),
                                                 rng.randint(1, 28))
        elif f == "street" and d["street"]:
            d["street"] = misspell(rng, d["street"])
        elif f == "city" and d["city"]:
            d["city"] = misspell(rng, d["city"])
        elif f == "postal" and d["postal"]:
            p = list(d["postal"])
            i = rng.choice([4, 5, 6])
            p[i] = str(rng.randint(0, 9)) if p[i].isdigit() \
                else chr(ord("A") + rng.randint(0, 25))
            d["postal"] = "".join(p)
        elif f == "house" and d["house"]:
            d["house"] = typo(rng, d["house"]) if len(d["house"]) > 1 \
                else str(rng.randint(1, 99))
        elif f == "phone" and d["phone"]:
            if rng.random() < 0.5:
                d["phone"] = typo(rng, d["phone"])
                if not d["phone"].isdigit() or len(d["phone"]) != 10:
                    d["phone"] = None
            else:
                d["phone"] = "%s%03d%04d" % (rng.choice(AREA),
                                             rng.randint(200, 999),
                                             rng.randint(0, 9999))
        elif f == "swap_names" and d["given"] and d["family"]:
            d["given"], d["family"] = d["family"], d["given"]
        elif f == "swap_lines":
            d["unit"] = "unit %d" % rng.randint(1, 40)
        elif f == "missing":
            k = rng.choice(["given", "birth", "phone", "postal", "house",
                            "city", "middle"])
            d[k] = None
    return d


SRI = "https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-bench-source-patient-id"
ID_SYSTEM = [SRI]


def fhir(d, rid):
    p = {"resourceType": "Patient",
         "identifier": [{"system": ID_SYSTEM[0], "value": rid}]}
    name = {"use": "official"}
    if d["family"]:
        name["family"] = d["family"].title()
    given = [x.title() for x in (d["given"], d["middle"]) if x]
    if given:
        name["given"] = given
    if len(name) > 1:
        p["name"] = [name]
    p["gender"] = d["sex"]
    if d["birth"]:
        p["birthDate"] = d["birth"]
    if d["phone"]:
        p["telecom"] = [{"system": "phone", "value": d["phone"],
                         "use": "home"}]
    addr = {"use": "home", "type": "physical", "state": "BC",
            "country": "CA"}
    line = " ".join(x for x in (d["house"], d["street"]) if x)
    lines = [line] if line else []
    if d.get("unit"):
        lines = [d["unit"]] + lines if rng_flip(rid) else lines + [d["unit"]]
    if lines:
        addr["line"] = lines
    if d["city"]:
        addr["city"] = d["city"]
    if d["postal"]:
        addr["postalCode"] = d["postal"]
    p["address"] = [addr]
    return p


def rng_flip(rid):
    return sum(map(ord, rid)) % 2 == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("count", type=int)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--dup-rate", type=float, default=0.0)
    ap.add_argument("--max-dups", type=int, default=1)
    ap.add_argument("--febrl-ids", action="store_true")
    a = ap.parse_args()
    if a.febrl_ids:
        ID_SYSTEM[0] = "urn:febrl:rec"
    rng = random.Random(a.seed)
    tables = build_tables(rng)
    out = sys.stdout
    for n in range(a.count):
        rec = original(rng, tables, n)
        out.write(json.dumps(fhir(rec, "rec-%d-org" % n)) + "\n")
        if a.dup_rate > 0 and rng.random() < a.dup_rate:
            for k in range(rng.randint(1, max(1, a.max_dups))):
                out.write(json.dumps(fhir(corrupt(rng, rec, tables),
                                          "rec-%d-dup-%d" % (n, k))) + "\n")


if __name__ == "__main__":
    main()
