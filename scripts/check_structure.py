#!/usr/bin/env python3
"""The house's structure rules over src/, run by ctest as the test `structure`.

Fails, naming each offender, when
  - a file under src/ is over MAX_FILE_LINES lines,
  - a function is over MAX_FUNCTION_LINES lines (as lizard measures it: from the
    line of its name to its closing brace),
  - a file of one folder of src/ includes a file of a folder that is not below it
    in LAYERS (a dependency pointing up or sideways), or the folders' include
    graph has a cycle.

Usage: check_structure.py SRC_DIR
Needs lizard (PyPI), which scripts/deps.sh installs with the test packages.
"""

import re
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80

# The folders of src/, lowest first. A folder may include its own files and those of
# folders on lower levels, never one on its own level or above: so the graph has no
# cycle, and a newcomer knows where a new file may reach. From DESIGN.md ("everything
# may use core; crypto uses only core; acme uses crypto; sources use acme, crypto and
# store; app uses everything and nothing uses app") and from what the code includes.
LAYERS = [
    # Result/Error, Clock, Domain, Duration: no dependencies.
    ["core"],
    # Leaves over core: spdlog set-up, OpenSSL, ldns, the pure renewal rules
    # (ARI window, order budget), inotify.
    ["log", "crypto", "dns", "renew", "watch"],
    # config checks a DNS server's address with dns; store keeps renew's order budget
    # in the state file and logs; acme speaks RFC 8555 with crypto's keys.
    ["config", "store", "acme"],
    # The pure decision (renew's rules over store's value types); when operators are
    # told (records kept in store); the port-80 responder (acme's ChallengePublisher);
    # the certificate sources (acme, crypto, dns, store).
    ["decide", "alert", "http01", "sources"],
    # libcurl: acme's HttpTransport, alert's channels, the Docker Engine client.
    ["net"],
    # Telling the gateway (through net's Docker Engine interface); /metrics (served
    # with http01's connection loop).
    ["reload", "metrics"],
    # Swarm mode: the sets in the swarm's Raft store, rolled out with reload; names
    # from the stack: the engine's containers and services read through net, turned
    # into lineages with config's checks and remembered in the state folder (store).
    ["swarm", "discover"],
    # main, CLI, Supervisor: wires everything, and nothing includes it.
    ["app"],
]
LEVEL = {folder: level for level, folders in enumerate(LAYERS) for folder in folders}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCE_SUFFIXES = {".cpp", ".h", ".hpp", ".cc"}


def source_files(src):
    return sorted(p for p in src.rglob("*") if p.is_file() and p.suffix in SOURCE_SUFFIXES)


def folder_of(src, path):
    return path.relative_to(src).parts[0]


def long_files(src, files):
    offences = []
    for path in files:
        lines = len(path.read_text(errors="replace").splitlines())
        if lines > MAX_FILE_LINES:
            offences.append(f"{path}: file has {lines} lines (limit {MAX_FILE_LINES}): split it by concern")
    return offences


def long_functions(files):
    try:
        import lizard
    except ImportError:
        return ["lizard is not installed for " + sys.executable +
                ": run `python3 -m pip install lizard` (scripts/deps.sh does, with the test packages)"]
    offences = []
    for path in files:
        for function in lizard.analyze_file(str(path)).function_list:
            if function.length > MAX_FUNCTION_LINES:
                offences.append(f"{path}:{function.start_line}: function {function.name} has {function.length} lines"
                                f" (limit {MAX_FUNCTION_LINES}): split it into functions named for what each does")
    return offences


def include_edges(src, files):
    """(from folder, to folder) -> the first 'file:line' that makes the edge."""
    edges = {}
    for path in files:
        here = folder_of(src, path)
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            target = match.group(1)
            # "x.h" beside the file is its own folder's; "dir/x.h" is src/dir's.
            there = target.split("/")[0] if "/" in target else here
            if there != here:
                edges.setdefault((here, there), f"{path}:{number}")
    return edges


def layering_offences(src, files):
    offences = []
    folders = sorted({folder_of(src, p) for p in files})
    for folder in folders:
        if folder not in LEVEL:
            offences.append(f"{src / folder}: folder has no level in LAYERS of {Path(__file__).name}: add it there")
    edges = include_edges(src, files)
    for (here, there), where in sorted(edges.items()):
        if here in LEVEL and there in LEVEL and LEVEL[there] >= LEVEL[here]:
            direction = "sideways" if LEVEL[there] == LEVEL[here] else "up"
            offences.append(f"{where}: {here}/ includes {there}/, a dependency pointing {direction}"
                            f" (levels {LEVEL[here]} -> {LEVEL[there]} in LAYERS)")
    offences += [f"include cycle between folders: {' -> '.join(cycle)}" for cycle in cycles(edges)]
    return offences


def cycles(edges):
    """Each cycle of the folder graph found by a depth-first walk, as a path."""
    graph = {}
    for here, there in edges:
        graph.setdefault(here, []).append(there)
    found, state, stack = [], {}, []

    def walk(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, [])):
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            walk(node)
    return found


def main(argv):
    if len(argv) != 2 or not Path(argv[1]).is_dir():
        print("usage: check_structure.py SRC_DIR", file=sys.stderr)
        return 2
    src = Path(argv[1])
    files = source_files(src)
    offences = long_files(src, files) + long_functions(files) + layering_offences(src, files)
    for offence in offences:
        print(offence)
    if offences:
        print(f"structure: {len(offences)} offence(s) against the house rules"
              f" (files <= {MAX_FILE_LINES} lines, functions <= {MAX_FUNCTION_LINES}, folders include only lower"
              f" levels); see scripts/check_structure.py")
        return 1
    print(f"structure: {len(files)} files under {src}, none over {MAX_FILE_LINES} lines, no function over"
          f" {MAX_FUNCTION_LINES}, folder includes point down only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
