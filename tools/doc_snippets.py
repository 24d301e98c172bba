#!/usr/bin/env python3
"""Keeps the code blocks of the Markdown docs equal to code that is built and
tested, so the docs cannot drift from the code.

A block preceded by a marker line

    <!-- snippet: PATH#NAME -->

must equal the region NAME of PATH (relative to the repository root): the
lines between `[snippet NAME]` and `[end snippet]`, each in a comment of the
file's language (`// [snippet NAME]`, `# [snippet NAME]`), with the region's
common indentation removed and any nested marker lines dropped. A C++ block
(```cpp or ```c++) without a marker is an error: C++ in the docs must come
from a compiled file.

  tools/doc_snippets.py [ROOT]          check; exit 1 and name every block that differs
  tools/doc_snippets.py --write [ROOT]  rewrite the blocks from their regions

ROOT defaults to the repository this script lives in. The check runs in the
test command as docs_snippets_test.
"""

import argparse
import os
import re
import sys
from typing import Dict, List, Optional, Tuple

MARKER = re.compile(r"^<!--\s*snippet:\s*([^#\s]+)#([\w.-]+)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(```+)\s*([\w+-]*)\s*$")
REGION_START = re.compile(r"^\s*(?://|#|--)\s*\[snippet ([\w.-]+)\]\s*$")
REGION_END = re.compile(r"^\s*(?://|#|--)\s*\[end snippet\]\s*$")
CPP_LANGUAGES = {"cpp", "c++", "cc", "cxx"}
SKIPPED_DIRS = {".git", "third_party", "node_modules"}


class Block:
    """One fenced block of a Markdown file: lines [start, end) are its body."""

    def __init__(self, path: str, language: str, start: int, end: int,
                 marker: Optional[Tuple[str, str]]):
        self.path, self.language, self.start, self.end, self.marker = (
            path, language, start, end, marker)


def markdown_files(root: str) -> List[str]:
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")
                         and not d.startswith("build"))
        found += [os.path.join(directory, f) for f in sorted(files) if f.endswith(".md")]
    return found


def blocks_of(path: str, lines: List[str]) -> List[Block]:
    blocks, i = [], 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end].strip() != fence.group(2):
            end += 1
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.match(previous.strip())
        blocks.append(Block(path, fence.group(3).lower(), i + 1, end,
                            (marker.group(1), marker.group(2)) if marker else None))
        i = end + 1
    return blocks


def regions_of(path: str) -> Dict[str, List[str]]:
    """Every region of a source file, by name."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    regions: Dict[str, List[str]] = {}
    open_regions: List[Tuple[str, List[str]]] = []
    for number, line in enumerate(lines, 1):
        start, end = REGION_START.match(line), REGION_END.match(line)
        if start:
            open_regions.append((start.group(1), []))
        elif end:
            if not open_regions:
                raise ValueError(f"{path}:{number}: [end snippet] without [snippet NAME]")
            name, body = open_regions.pop()
            regions[name] = dedent(body)
        else:
            for _, body in open_regions:
                body.append(line)
    if open_regions:
        raise ValueError(f"{path}: [snippet {open_regions[-1][0]}] is never ended")
    return regions


def dedent(lines: List[str]) -> List[str]:
    indents = [len(line) - len(line.lstrip()) for line in lines if line.strip()]
    cut = min(indents, default=0)
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return [line[cut:].rstrip() for line in lines]


def check_or_write(root: str, write: bool) -> List[str]:
    problems, cache = [], {}
    for path in markdown_files(root):
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        relative = os.path.relpath(path, root)
        changed = False
        # Bottom-up, so that rewriting a block keeps earlier line numbers valid.
        for block in reversed(blocks_of(relative, lines)):
            where = f"{relative}:{block.start}"
            if block.marker is None:
                if block.language in CPP_LANGUAGES:
                    problems.append(f"{where}: C++ block without a <!-- snippet: FILE#NAME --> "
                                    "marker; put the code in a compiled file (docs/snippets/) "
                                    "and mark the block")
                continue
            source, name = block.marker
            source_path = os.path.join(root, source)
            if source_path not in cache:
                try:
                    cache[source_path] = regions_of(source_path)
                except (OSError, ValueError) as error:
                    cache[source_path] = error
            regions = cache[source_path]
            if isinstance(regions, Exception):
                problems.append(f"{where}: {regions}")
                continue
            if name not in regions:
                problems.append(f"{where}: {source} has no region [snippet {name}]")
                continue
            expected = regions[name]
            if lines[block.start:block.end] == expected:
                continue
            if write:
                lines[block.start:block.end] = expected
                changed = True
            else:
                problems.append(f"{where}: block differs from {source}#{name}; run "
                                "tools/doc_snippets.py --write")
        if changed:
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
            print(f"rewrote {relative}")
    return problems


def main() -> int:
    flags = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    flags.add_argument("--write", action="store_true", help="rewrite the blocks from the code")
    flags.add_argument("root", nargs="?",
                       default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = flags.parse_args()
    problems = check_or_write(args.root, args.write)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    if not args.write:
        print("every marked block equals its code; no unmarked C++ block")
    return 0


if __name__ == "__main__":
    sys.exit(main())
