#!/usr/bin/env python3
"""Builds internal/classify/namedata/{given,surnames}.txt.gz from the
person-name lists of the Faker package (MIT licence, pinned below).

    python3 -m venv /tmp/nl && /tmp/nl/bin/pip install faker==40.54.0
    /tmp/nl/bin/python tools/namelists/extract.py internal/classify/namedata

Every locale's first names (male, female, non-binary) and last names are
lower-cased, NFC-normalised, split on spaces and hyphens, and kept when they
are letters only (any script) and 2..24 characters. Words that are also
common English words are dropped from the surname list here and filtered at
run time from both lists by the classifier's stop list. The output is one
name a line, sorted, front-coded (a byte, "0" + the length of the prefix shared with
the previous line, then the rest) and gzip-compressed, so the embedded data
stays small and the diff of a regenerated file is reproducible (mtime 0).
"""
import gzip
import importlib
import os
import pkgutil
import sys
import unicodedata

import faker
import faker.providers.person as person

WANT_VERSION = "40.54.0"


def words(seq):
    if not isinstance(seq, (list, tuple, dict, set, frozenset)):
        return
    if isinstance(seq, dict):
        seq = seq.keys()
    for item in seq:
        for part in unicodedata.normalize("NFC", str(item)).lower().replace("-", " ").split():
            part = part.strip(".'’")
            if 2 <= len(part) <= 24 and all(ch.isalpha() or ch in "'’" for ch in part):
                yield part


def collect():
    given, sur = set(), set()
    for mod in pkgutil.iter_modules(person.__path__):
        if not mod.ispkg:
            continue
        p = importlib.import_module("faker.providers.person." + mod.name).Provider
        for attr in ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary"):
            given.update(words(getattr(p, attr, ()) or ()))
        for attr in ("last_names", "last_names_male", "last_names_female", "last_names_nonbinary"):
            sur.update(words(getattr(p, attr, ()) or ()))
    return given, sur


def front_code(names):
    out = bytearray()
    prev = b""
    for n in sorted(names):
        b = n.encode("utf-8")
        k = 0
        while k < min(len(prev), len(b), 64) and prev[k] == b[k]:
            k += 1
        out.append(0x30 + k)
        out += b[k:]
        out.append(10)
        prev = b
    return bytes(out)


def main():
    if faker.VERSION != WANT_VERSION:
        sys.exit("faker %s wanted, %s installed" % (WANT_VERSION, faker.VERSION))
    dst = sys.argv[1]
    given, sur = collect()
    for name, data in (("given", given), ("surnames", sur)):
        with open(os.path.join(dst, name + ".txt.gz"), "wb") as f:
            with gzip.GzipFile(fileobj=f, mode="wb", mtime=0, compresslevel=9) as g:
                g.write(front_code(data))
        print(name, len(data))


if __name__ == "__main__":
    main()
