#!/usr/bin/env python3
"""Checks that the stage folders include each other only downwards (README "The house"):

    core <- solver <- datagen <- train <- invert,   core <- models <- train, invert

and that solver/, datagen/ (except its LibTorch dataset reader) and core/ never include LibTorch. Prints every
violation as `file:line: <folder> may not include <header>` and exits 1 if there is one.
Usage: tools/check_layers.py [REPO_ROOT]"""
import pathlib
import re
import sys

ALLOWED = {
    "core": set(),
    "solver": {"core"},
    "datagen": {"core", "solver"},
    "models": {"core"},
    "train": {"core", "solver", "datagen", "models"},
    "invert": {"core", "solver", "datagen", "models"},
}
NO_TORCH = {"core", "solver", "datagen"}
TORCH_OK = {"datagen/store_reader.h", "datagen/store_reader.cpp"}  # the data layer's tensor reader

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent)
include = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]')
bad = []
for folder, allowed in ALLOWED.items():
    for path in sorted((root / folder).glob("*")):
        if path.suffix not in (".h", ".cpp"):
            continue
        rel = f"{folder}/{path.name}"
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = include.match(line)
            if not m:
                continue
            header = m.group(1)
            top = header.split("/")[0]
            if top in ALLOWED and top != folder and top not in allowed:
                bad.append(f"{rel}:{n}: {folder} may not include {header}")
            if folder in NO_TORCH and rel not in TORCH_OK and (top in ("torch", "ATen", "c10")):
                bad.append(f"{rel}:{n}: {folder} builds without LibTorch but includes {header}")
for b in bad:
    print(b)
print(f"layers: {len(bad)} violation(s)" if bad else "layers: every include points down the stack")
sys.exit(1 if bad else 0)
