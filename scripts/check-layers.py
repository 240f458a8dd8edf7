#!/usr/bin/env python3
"""Fails when a layer under src/ includes a header of a layer it may not use.

The allowed uses are the table in docs/architecture.md; a layer not listed here fails too, so a new
layer has to be placed in the architecture before it builds into the tree.
"""
import pathlib
import re
import sys

ALLOWED = {
    "common": set(),
    "net": {"common"},
    "srtp": set(),
    "sdp": {"common"},
    "rtp": {"common"},
    "rtcp": {"common", "rtp"},
    "bwe": {"common", "rtcp"},
    "ice": {"common", "net"},
    "dtls": {"common", "srtp"},
    "transport": {"common", "net", "ice", "dtls", "srtp", "rtp"},
    "sfu": {"common", "net", "ice", "dtls", "rtp", "rtcp", "transport"},
    "store": {"common", "net"},
    "accounts": {"common", "net", "store"},
    "conference": {"common", "ice", "dtls", "sdp", "sfu"},
    "signaling": {"common", "net", "store", "conference"},
    "http": {"common", "net", "store", "signaling", "accounts"},
    "app": {"common", "store", "conference", "signaling", "http", "accounts"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/')


def main() -> int:
    root = pathlib.Path(__file__).resolve().parent.parent / "src"
    problems = []
    for layer_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        layer = layer_dir.name
        if layer not in ALLOWED:
            problems.append(f"src/{layer}: not a known layer (add it to scripts/check-layers.py and docs/architecture.md)")
            continue
        for path in sorted(layer_dir.rglob("*")):
            if path.suffix not in (".h", ".cpp"):
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                m = INCLUDE.match(line)
                if m and m.group(1) != layer and m.group(1) not in ALLOWED[layer]:
                    problems.append(f"{path.relative_to(root.parent)}:{number}: {layer} may not use {m.group(1)}")
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
