#!/usr/bin/env python3
"""Seed corpora from Vectors/, regression vectors from crashes (used by run.sh).

  seeds.py corpus TARGET OUTDIR [--vectors DIR]
      Writes every hex string (>= 1 byte) found anywhere in the JSON vector files under DIR
      (default: ../Vectors) into OUTDIR, one file per distinct byte string, named vec-<sha1>.
      Robust to fields it does not know: the whole JSON tree is walked, and any string that is
      an even number of hex digits (spaces, ':' and a '0x' prefix allowed) counts. Per case,
      the concatenation of its hex strings is added too (a whole stream from its frames).
      Targets whose input starts with set-up bytes also get variants with those bytes in front.
      FuzzZ85 also gets every string that looks like Z85 text.
      Regression files (kind "fuzz-regression") feed only their own target, unchanged.

  seeds.py regression TARGET ARTIFACT OUTDIR [--stream HEX] [--finding TEXT]
      Writes ARTIFACT (a libFuzzer crash/timeout/oom/leak file) as a regression vector
      OUTDIR/<TARGET>-<kind>-<sha1[:12]>.json: {"description", "source", "kind": "fuzz-regression",
      "cases": [{"target", "input", "stream"?, "finding"?}]}. "stream" is the whole byte stream the
      connection under test read (recorded prefix included; connection targets only), "finding"
      the harness's message. Prints the path.

  seeds.py unhex JSONFILE OUTDIR
      Writes the "input" of each case of a regression vector as a raw file (for reproducing).
"""

import hashlib
import json
import os
import re
import sys
import time

HEX_RE = re.compile(r"^(0x)?[0-9a-fA-F]+$")
Z85_ALPHABET = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")
MAX_SEED = 1 << 16


def as_hex(value):
    """The bytes of a hex string, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().replace(" ", "").replace("\n", "").replace("\t", "").replace(":", "")
    if len(text) < 2 or not HEX_RE.match(text):
        return None
    if text.startswith("0x"):
        text = text[2:]
    if len(text) % 2 != 0 or not text:
        return None
    try:
        return bytes.fromhex(text)
    except ValueError:
        return None


def walk(node, found, texts):
    """Collects hex byte strings (in document order) and other strings."""
    if isinstance(node, dict):
        for value in node.values():
            walk(value, found, texts)
    elif isinstance(node, list):
        for value in node:
            walk(value, found, texts)
    elif isinstance(node, str):
        data = as_hex(node)
        if data is not None:
            found.append(data)
        else:
            texts.append(node)


def vector_files(directory):
    for root, _, files in os.walk(directory):
        for name in sorted(files):
            if name.endswith(".json"):
                yield os.path.join(root, name)


def prefixes_for(target):
    """Set-up bytes to put in front of raw vector bytes for targets whose input starts with them."""
    if target == "FuzzConnection":
        # byte 0: socket type index + 21 * mechanism; byte 1: options (see Scenarios.swift).
        return [b"\x05\x00", b"\x06\x00", b"\x01\x00", b"\x02\x00", b"\x7e\x00", b"\x2f\x00", b"\x5a\x00"]
    if target in ("FuzzCurveServer", "FuzzCurveClient"):
        # mode byte: splice point 0 (the whole peer stream is the input) and 3 (after the handshake).
        return [b"\x00", b"\x03", b"\x08"]
    return [b""]


def corpus(target, outdir, vectors):
    os.makedirs(outdir, exist_ok=True)
    seeds = set()
    if not os.path.isdir(vectors):
        print(f"seeds.py: no vectors directory {vectors}; generated seeds only", file=sys.stderr)
        return
    for path in vector_files(vectors):
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as error:
            print(f"seeds.py: skipping {path}: {error}", file=sys.stderr)
            continue
        if isinstance(doc, dict) and doc.get("kind") == "fuzz-regression":
            for case in doc.get("cases", []) if isinstance(doc.get("cases"), list) else []:
                if isinstance(case, dict) and case.get("target") == target:
                    data = as_hex(case.get("input", ""))
                    if data is not None or case.get("input") == "":
                        seeds.add(("exact", data or b""))
            continue
        cases = doc.get("cases") if isinstance(doc, dict) and isinstance(doc.get("cases"), list) else [doc]
        for case in cases:
            found, texts = [], []
            walk(case, found, texts)
            for data in found:
                seeds.add(("raw", data))
            if len(found) > 1:
                seeds.add(("raw", b"".join(found)))
            if target == "FuzzZ85":
                for text in texts:
                    if 0 < len(text) <= 4096 and all(c in Z85_ALPHABET for c in text):
                        seeds.add(("exact", text.encode()))
            if target == "FuzzPlainServer":
                # Streams that start with a greeting: the server under test already read one.
                for data in found + ([b"".join(found)] if len(found) > 1 else []):
                    if len(data) > 64 and data[0] == 0xFF and data[9] & 1:
                        seeds.add(("exact", data[64:]))
    written = 0
    for kind, data in sorted(seeds):
        variants = [data] if kind == "exact" else [p + data for p in prefixes_for(target)]
        for variant in variants:
            if len(variant) == 0 or len(variant) > MAX_SEED:
                continue
            name = "vec-" + hashlib.sha1(variant).hexdigest()[:16]
            with open(os.path.join(outdir, name), "wb") as f:
                f.write(variant)
            written += 1
    print(f"seeds.py: {written} vector seeds for {target} in {outdir}", file=sys.stderr)


def regression(target, artifact, outdir, stream=None, finding=None):
    with open(artifact, "rb") as f:
        data = f.read()
    kind = os.path.basename(artifact).split("-", 1)[0]   # crash, timeout, oom, leak, slow-unit
    digest = hashlib.sha1(data).hexdigest()[:12]
    os.makedirs(outdir, exist_ok=True)
    path = os.path.normpath(os.path.join(outdir, f"{target}-{kind}-{digest}.json"))
    doc = {
        "description": f"Input that made the {target} fuzzer report a {kind}: replaying it must not crash, "
                       f"and the parser must either accept it or fail with an error blamed on the peer.",
        "source": f"libFuzzer ({target}, Fuzz/run.sh), {time.strftime('%Y-%m-%d', time.gmtime())}, "
                  f"artifact {os.path.basename(artifact)}",
        "kind": "fuzz-regression",
        "cases": [{"target": target, "input": data.hex()}],
    }
    if stream:
        doc["cases"][0]["stream"] = stream.strip()
    if finding:
        doc["cases"][0]["finding"] = finding.strip()
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    print(path)


def unhex(jsonfile, outdir):
    with open(jsonfile, encoding="utf-8") as f:
        doc = json.load(f)
    os.makedirs(outdir, exist_ok=True)
    for i, case in enumerate(doc.get("cases", [])):
        data = as_hex(case.get("input", "")) or b""
        path = os.path.join(outdir, f"{case.get('target', 'input')}-{i}")
        with open(path, "wb") as f:
            f.write(data)
        print(path)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    if len(argv) >= 4 and argv[1] == "corpus":
        vectors = os.path.join(here, "..", "Vectors")
        if len(argv) >= 6 and argv[4] == "--vectors":
            vectors = argv[5]
        corpus(argv[2], argv[3], vectors)
    elif len(argv) >= 5 and argv[1] == "regression":
        options = dict(zip(argv[5::2], argv[6::2]))
        regression(argv[2], argv[3], argv[4], stream=options.get("--stream"), finding=options.get("--finding"))
    elif len(argv) == 4 and argv[1] == "unhex":
        unhex(argv[2], argv[3])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
