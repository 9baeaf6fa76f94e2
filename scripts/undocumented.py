#!/usr/bin/env python3
"""Lists the public symbols of each module that have no documentation, and exits 1 if any.

Usage: undocumented.py GRAPHS_DIR MODULE...   (GRAPHS_DIR/<Module>/*.symbols.json, as
scripts/docs.sh lays them out from `swift package dump-symbol-graph`).

A symbol counts as documented when it has a doc comment of its own, or when it implements a
protocol requirement: DocC shows the requirement's documentation on it (`description`, `==`,
`hash(into:)`, `makeIterator()`, ...), and repeating it would say nothing new. DocC's own
coverage report (`docc convert --experimental-documentation-coverage`) counts those as missing,
which is why this script exists.
"""
import json
import os
import sys


def symbols_of(directory):
    """The module's symbols and relationships from every graph file in `directory`."""
    symbols, relationships = {}, []
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".symbols.json"):
            continue
        with open(os.path.join(directory, name)) as f:
            graph = json.load(f)
        for symbol in graph["symbols"]:
            symbols[symbol["identifier"]["precise"]] = symbol
        relationships += graph.get("relationships", [])
    return symbols, relationships


def has_doc_comment(symbol):
    lines = symbol.get("docComment", {}).get("lines", [])
    return any(line.get("text", "").strip() for line in lines)


def main():
    graphs, modules = sys.argv[1], sys.argv[2:]
    missing_total = 0
    for module in modules:
        symbols, relationships = symbols_of(os.path.join(graphs, module))
        implementations = {
            r["source"] for r in relationships if r["kind"] in ("requirementOf", "defaultImplementationOf", "overrides")
        }
        # Members of a conformance to another module's protocol: the graph has no requirement
        # relationship for them, but a `sourceOrigin` naming the requirement.
        for r in relationships:
            if r["kind"] == "memberOf" and "sourceOrigin" in r:
                implementations.add(r["source"])
        missing = []
        for precise, symbol in symbols.items():
            kind = symbol["kind"]["identifier"]
            if kind == "swift.extension" or has_doc_comment(symbol) or precise in implementations:
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
