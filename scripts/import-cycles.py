#!/usr/bin/env python3
"""Finds import circles in a Rust crate's source tree, between files and between folders.

A file depends on another when it names an item of that file's module: `use crate::a::b`,
`crate::a::b::X` in code, `super::X`, or `pub use` of a child. Declaring a child module
(`mod x;`) is not a dependency. A folder depends on another folder when any file inside
it depends on a file inside the other (a folder's own mod.rs belongs to that folder).
Exit status 1 and the circles printed when there is any.

Usage: import-cycles.py SRC_DIR [SRC_DIR ...]   (each the directory holding lib.rs/main.rs)
"""
import os
import re
import sys

USE_RE = re.compile(r"\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)")
GROUP_RE = re.compile(r"\buse\s+(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)*)::\{([^;]*)\};", re.S)


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    return text


def module_of(root, path):
    rel = os.path.relpath(path, root)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def is_dir_module(root, path):
    return os.path.basename(path) in ("mod.rs", "lib.rs", "main.rs")


def scan(root):
    files = {}
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".rs"):
                p = os.path.join(d, n)
                files[module_of(root, p)] = p
    return files


def resolve(mod, files, base, segments):
    """The longest module prefix of base+segments that is a file of the crate."""
    path = list(base)
    for s in segments:
        if s == "super":
            path = path[:-1]
        elif s == "self":
            pass
        else:
            path.append(s)
    best = None
    for i in range(len(path), -1, -1):
        if tuple(path[:i]) in files:
            best = tuple(path[:i])
            break
    return best


def deps(root, files):
    graph = {m: set() for m in files}
    for mod, path in files.items():
        text = strip_comments(open(path, encoding="utf-8").read())
        # Test modules may reach anywhere; they are not part of the dependency shape.
        text = re.split(r"#\[cfg\(test\)\]", text)[0]
        # `self`/`super` are relative to the module the file is (a file's own module).
        own = mod
        refs = []
        for m in GROUP_RE.finditer(text):
            head = [m.group(1)] + [s for s in m.group(2).split("::") if s]
            for item in re.split(r",", m.group(3)):
                item = item.strip().split(" as ")[0].strip()
                if not item or item.startswith("{"):
                    continue
                first = item.split("::")
                refs.append(head + [s for s in first if s and s not in ("*",) and not s.startswith("{")])
        text = GROUP_RE.sub("", text)
        for m in USE_RE.finditer(text):
            refs.append([m.group(1)] + [s for s in m.group(2).split("::") if s])
        for r in refs:
            kind, segs = r[0], r[1:]
            if kind == "crate":
                base = ()
            elif kind == "self":
                base = own
            else:
                base = own[:-1]
                while segs and segs[0] == "super":
                    base = base[:-1]
                    segs = segs[1:]
            target = resolve(own, files, base, segs)
            if target is not None and target != mod:
                graph[mod].add(target)
    return graph


def cycles(graph):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def name(m):
    return "::".join(m) or "crate"


def main():
    roots = sys.argv[1:] or ["src"]
    failed = False
    for root in roots:
        files = scan(root)
        graph = deps(root, files)
        # Files: a parent module reaching into its child is the tree's own shape, and a
        # child reaching up to its parent is the usual `super::`; only one of the two
        # directions may be used for a pair, as for any other pair.
        file_cycles = cycles(graph)
        # Folders: every file's folder (a mod.rs is in its own folder).
        def folder(m):
            p = files[m]
            return m if is_dir_module(root, p) else m[:-1]
        fgraph = {}
        for a, bs in graph.items():
            fa = folder(a)
            fgraph.setdefault(fa, set())
            for b in bs:
                fb = folder(b)
                # A folder and the folders inside it are one tree: nesting is not a circle.
                if fa[: len(fb)] == fb or fb[: len(fa)] == fa:
                    continue
                fgraph[fa].add(fb)
        folder_cycles = cycles(fgraph)
        for c in file_cycles:
            failed = True
            print(f"{root}: files in a circle: " + ", ".join(name(m) for m in c))
        for c in folder_cycles:
            failed = True
            print(f"{root}: folders in a circle: " + ", ".join(name(m) + "/" for m in c))
        if not file_cycles and not folder_cycles:
            print(f"{root}: {len(files)} files, no import circles")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
