#!/usr/bin/env python3
"""leakwatch and Presidio side by side on Presidio's synthetic evaluation set.

Run by scripts/bench-accuracy.sh (which builds leakwatch and installs Presidio
and a spaCy English model from PyPI into ./.cache/presidio-venv); see there.

Both tools see the same records, in two modes:
  text     each sentence as free text: {"message": full_text}
  neutral  each labelled entity value under a neutral field name, one record
           per sentence: {"field_1": value_1, "field_2": value_2, ...}
           (Presidio analyses each value on its own; its record is the union)

Scoring is per record and class, like internal/classify/accuracy_test.go: a
class is a true positive when the record's labels hold it and the tool
reports it, a false positive when the tool reports a class the labels do not
hold (whatever the class), a false negative when a labelled class is missed.
Entity types with no leakwatch class (GPE, ORGANIZATION, DATE_TIME, TITLE,
AGE, NRP, ZIP_CODE, DOMAIN_NAME) are not labels; a tool that reports, say, a
postal address for a city name gets a false positive for it.

Speed is MB of record text per CPU-second of the tool: leakwatch as a child
process (`leakwatch classify --per-record`, end to end: start, JSON parsing,
classification, output) over the records repeated to at least --speed-mb MB;
Presidio in this process (AnalyzerEngine.analyze per text, the model already
loaded; its load time is printed apart).

Nothing derived from the data set is written outside the work directory
given (./.cache by default, gitignored).
"""

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

# Presidio's synthetic set: entity type -> leakwatch class.
GOLD = {
    "PERSON": "person_name",
    "STREET_ADDRESS": "postal_address",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "bank_account",
    "US_SSN": "national_id",
    "US_DRIVER_LICENSE": "national_id",
    "IP_ADDRESS": "ip_address",
}

# Presidio's recognisers -> leakwatch class. Presidio is asked for these
# entities only: the ones the data set labels (LOCATION standing for street
# addresses, as in presidio-research's own evaluation). Its other recognisers
# (US_BANK_NUMBER, US_ITIN, US_PASSPORT, UK_NHS, DATE_TIME, NRP, URL, ...)
# would only add false positives on this set.
PRESIDIO = {
    "PERSON": "person_name",
    "LOCATION": "postal_address",
    "PHONE_NUMBER": "phone",
    "EMAIL_ADDRESS": "email",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "bank_account",
    "US_SSN": "national_id",
    "US_DRIVER_LICENSE": "national_id",
    "IP_ADDRESS": "ip_address",
}


def load(path):
    with open(path, encoding="utf-8") as f:
        rows = json.load(f)
    text, neutral, labels = [], [], []
    for r in rows:
        labels.append(sorted({GOLD[s["entity_type"]] for s in r["spans"] if s["entity_type"] in GOLD}))
        text.append({"message": r["full_text"]})
        neutral.append({"field_%d" % (j + 1): s["entity_value"] for j, s in enumerate(r["spans"])})
    return text, neutral, labels


def record_bytes(records):
    return sum(len(v.encode("utf-8")) for r in records for v in r.values())


def write_jsonl(path, records, repeat=1):
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(repeat):
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False))
                f.write("\n")


def child_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_leakwatch(binary, key, path):
    """Runs `leakwatch classify --per-record` and returns (predictions, cpu s)."""
    before = child_cpu()
    p = subprocess.run(
        [binary, "classify", "--per-record", "--key-file", key, "--type", "jsonl", path],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False,
    )
    cpu = child_cpu() - before
    if p.returncode not in (0, 1):
        sys.exit("leakwatch classify failed (exit %d): %s" % (p.returncode, p.stderr.decode()[:2000]))
    preds = []
    for line in p.stdout.decode().splitlines():
        rec = json.loads(line)
        preds.append(sorted({c["class"] for c in rec["classes"]}))
    return preds, cpu


def leakwatch_speed(binary, key, records, workdir, min_mb):
    size = record_bytes(records)
    repeat = max(1, int(min_mb * 1e6 / max(size, 1)) + 1)
    path = os.path.join(workdir, "speed.jsonl")
    write_jsonl(path, records, repeat)
    best = None
    for _ in range(3):
        before = child_cpu()
        p = subprocess.run(
            [binary, "classify", "--per-record", "--key-file", key, "--type", "jsonl", path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
        )
        cpu = child_cpu() - before
        if p.returncode not in (0, 1):
            sys.exit("leakwatch classify failed: %s" % p.stderr.decode()[:2000])
        best = cpu if best is None else min(best, cpu)
    os.remove(path)
    return size * repeat / 1e6, best


def loopback_only():
    """Refuses every connection and name look-up that is not loopback: this
    benchmark talks to no one (tldextract, which Presidio's e-mail recogniser
    uses, would otherwise fetch the Public Suffix List)."""
    import ipaddress
    import socket

    def loopback(host):
        try:
            return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
        except ValueError:
            return host == "localhost"

    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *a, **k):
        if not loopback(host):
            raise OSError("bench_accuracy: no network (look-up of %r refused)" % host)
        return real_getaddrinfo(host, *a, **k)

    def connect(sock, addr):
        if isinstance(addr, tuple) and not loopback(addr[0]):
            raise OSError("bench_accuracy: no network (connect to %r refused)" % (addr,))
        return real_connect(sock, addr)

    socket.getaddrinfo = getaddrinfo
    socket.socket.connect = connect


def presidio_engine(model_dir):
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    # The suffix list bundled with tldextract, never a download.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())
    t0 = time.process_time()
    # A model directory (not a package name): Presidio loads it as it is and
    # never tries to download one.
    nlp = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model_dir}])
    nlp.load()
    engine = AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"])
    engine.analyze(text="warm up John Smith 555-0100", language="en")
    return engine, time.process_time() - t0


def run_presidio(engine, records):
    preds = []
    entities = sorted(PRESIDIO)
    t0 = time.process_time()
    for r in records:
        found = set()
        for v in r.values():
            for res in engine.analyze(text=v, language="en", entities=entities):
                c = PRESIDIO.get(res.entity_type)
                if c:
                    found.add(c)
        preds.append(sorted(found))
    return preds, time.process_time() - t0


def score(preds, labels):
    per = {}
    for got, want in zip(preds, labels):
        g, w = set(got), set(want)
        for c in g | w:
            tp, fp, fn = per.get(c, (0, 0, 0))
            per[c] = (tp + (c in g and c in w), fp + (c in g and c not in w), fn + (c in w and c not in g))
    return per


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def table(title, results):
    """results: [(tool name, per-class counts)]"""
    print("\n" + title)
    classes = sorted({c for _, per in results for c in per})
    head = "%-15s" % "class"
    for name, _ in results:
        head += " | %-9s %5s %5s %5s %6s %6s %6s" % (name, "TP", "FP", "FN", "P", "R", "F1")
    print(head)
    rows = classes + ["ALL (micro)"]
    for c in rows:
        line = "%-15s" % c
        for name, per in results:
            if c == "ALL (micro)":
                tp = sum(v[0] for v in per.values())
                fp = sum(v[1] for v in per.values())
                fn = sum(v[2] for v in per.values())
            else:
                tp, fp, fn = per.get(c, (0, 0, 0))
            p, r, f = prf(tp, fp, fn)
            line += " | %-9s %5d %5d %5d %6.3f %6.3f %6.3f" % ("", tp, fp, fn, p, r, f)
        print(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", help="path of Presidio's synth_dataset_v2.json")
    ap.add_argument("--leakwatch", required=True, help="leakwatch binary")
    ap.add_argument("--model-dir", help="spaCy English model directory (omit with --no-presidio)")
    ap.add_argument("--workdir", default=".cache/bench-accuracy", help="scratch and Presidio cache (gitignored)")
    ap.add_argument("--no-presidio", action="store_true", help="leakwatch only (fast; for iterating on rules)")
    ap.add_argument("--fresh", action="store_true", help="re-run Presidio even when its cached predictions match")
    ap.add_argument("--speed-mb", type=float, default=16, help="MB of records for leakwatch's speed run")
    args = ap.parse_args()
    loopback_only()

    os.makedirs(args.workdir, exist_ok=True)
    text, neutral, labels = load(args.dataset)
    key = os.path.join(args.workdir, "key")
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        results = {}
        for mode, records in (("text", text), ("neutral", neutral)):
            path = os.path.join(tmp, mode + ".jsonl")
            write_jsonl(path, records)
            preds, cpu = run_leakwatch(args.leakwatch, key, path)
            if len(preds) != len(records):
                sys.exit("leakwatch gave %d records for %d" % (len(preds), len(records)))
            mb, speed_cpu = leakwatch_speed(args.leakwatch, key, records, tmp, args.speed_mb)
            results[mode] = {"leakwatch": (score(preds, labels), mb / speed_cpu, "%.1f MB in %.2f CPU-s" % (mb, speed_cpu))}

        if not args.no_presidio:
            digest = hashlib.sha256(open(args.dataset, "rb").read()).hexdigest()[:16]
            from importlib.metadata import version

            cache = os.path.join(args.workdir, "presidio-%s-%s-%s.json" % (version("presidio-analyzer"), hashlib.sha256(repr(sorted(PRESIDIO.items())).encode()).hexdigest()[:8], digest))
            cached = None
            if not args.fresh and os.path.exists(cache):
                with open(cache) as f:
                    cached = json.load(f)
            if cached is None:
                engine, load_cpu = presidio_engine(args.model_dir)
                cached = {"load_cpu": load_cpu}
                for mode, records in (("text", text), ("neutral", neutral)):
                    preds, cpu = run_presidio(engine, records)
                    cached[mode] = {"preds": preds, "cpu": cpu, "mb": record_bytes(records) / 1e6}
                with open(cache, "w") as f:
                    json.dump(cached, f)
            else:
                print("(Presidio: predictions and CPU times from %s; --fresh re-runs it)" % cache)
            print("Presidio model load: %.1f CPU-s" % cached["load_cpu"])
            for mode in ("text", "neutral"):
                c = cached[mode]
                results[mode]["presidio"] = (score(c["preds"], labels), c["mb"] / c["cpu"], "%.3f MB in %.1f CPU-s" % (c["mb"], c["cpu"]))

    n = len(labels)
    for mode, title in (("text", "sentences as text (%d records)" % n), ("neutral", "entities under neutral field names (%d records)" % n)):
        tools = [(name, results[mode][name][0]) for name in ("leakwatch", "presidio") if name in results[mode]]
        table("Presidio synth_dataset_v2, " + title, tools)
        for name in ("leakwatch", "presidio"):
            if name in results[mode]:
                _, speed, how = results[mode][name]
                print("  speed %-9s %9.3f MB per CPU-second (%s)" % (name, speed, how))


if __name__ == "__main__":
    main()
