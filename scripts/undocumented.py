#!/usr/bin/env python3
"""Lists the public symbols of each module that have no documentation, and exits 1 if any.

Usage: undocumented.py GRAPHS_DIR MODULE...   (GRAPHS_DIR/<Module>/*.symbols.json, as
scripts/docs.sh lays them out from `swift package dump-symbol-graph`).

A symbol counts as documented when it has a doc comment: its own, or the one the compiler
copies from the requirement it implements of another module's protocol (`description`, `==`,
`hash(into:)`, ...), which DocC shows on its page. Requirements of this package's own protocols
need their own, like any other symbol.
"""
import json
import os
import sys


def symbols_of(directory):
    """The module's symbols from every graph file in `directory`, by precise identifier."""
    symbols = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".symbols.json"):
            continue
        with open(os.path.join(directory, name)) as f:
            graph = json.load(f)
        for symbol in graph["symbols"]:
            symbols[symbol["identifier"]["precise"]] = symbol
    return symbols


def has_doc_comment(symbol):
    lines = symbol.get("docComment", {}).get("lines", [])
    return any(line.get("text", "").strip() for line in lines)


def main():
    graphs, modules = sys.argv[1], sys.argv[2:]
    missing_total = 0
    for module in modules:
        symbols = symbols_of(os.path.join(graphs, module))
        missing = []
        for symbol in symbols.values():
            kind = symbol["kind"]["identifier"]
            if kind == "swift.extension" or has_doc_comment(symbol):
                continue
            location = symbol.get("location", {})
            path = location.get("uri", "").replace("file://", "")
            line = location.get("position", {}).get("line", 0) + 1
            missing.append((path, line, kind.replace("swift.", ""), ".".join(symbol["pathComponents"])))
        missing.sort()
        print(f"docs: {module}: {len(missing)} public symbols without documentation")
        cwd = os.getcwd() + "/"
        for path, line, kind, name in missing:
            print(f"  {path.replace(cwd, '')}:{line}: {kind} {name}")
        missing_total += len(missing)
    return 1 if missing_total else 0


if __name__ == "__main__":
    sys.exit(main())
