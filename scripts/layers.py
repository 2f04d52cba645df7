#!/usr/bin/env python3
"""layers.py — checks that revived's files and librevive's call one way.

Usage: scripts/layers.py BUILD_DIR

Reads the object files of revived and of librevive in BUILD_DIR (what each
defines and what it calls, with nm), draws which file calls which, and
checks every call against the layers below: a file may call only files of
the layers under its own, never one of its own layer or above. Prints the
graph, then every call that goes sideways or up, and exits 1 if there is
one. docs/design.md shows the same layers as a picture.
"""
import glob
import os
import subprocess
import sys

# Top to bottom. Callbacks (a hook a lower file calls through a pointer the
# upper one gave it) are not calls: nm cannot see them, and they are how a
# lower layer reports upwards.
LAYERS = {
    'revived': [
        ['main'],
        ['loader'],
        ['control'],
        ['supervisor'],
        ['handover', 'watchdog'],
        ['service'],
        ['instance'],
        ['session'],
        ['opening'],
        ['channel'],
        ['dataspace', 'access'],
        ['namespace', 'conn'],
        ['account', 'arena', 'held', 'launch', 'sandbox', 'child', 'reserve', 'slab', 'filter', 'manifest', 'default_manifest'],
        ['procstat'],
        ['memfd', 'loop', 'log', 'landlock'],
    ],
    'librevive': [
        ['client', 'dataspace', 'watcher', 'server'],
        ['mux', 'workers', 'fastpath'],
        ['conn', 'demux', 'sandbox'],
        ['cap', 'serve'],
        ['channel', 'rings'],
        ['core', 'arena', 'ctlmsg'],
        ['arena_file'],
        ['fail'],
        ['wire', 'journal', 'util'],
    ],
}

OBJECTS = {
    'revived': ['src/revived/revived.p/*.o', 'src/revived/librevived-core.a.p/*.o'],
    'librevive': ['src/lib/librevive.so.*.p/*.o'],
}

DEFINED = set('TDBRCVW')


def file_of(obj):
    name = os.path.basename(obj)[:-len('.c.o')]
    for part in ('shared_', 'client_', 'server_'):
        if name.startswith(part):
            return name[len(part):]
    return name


def symbols(obj):
    out = subprocess.run(['nm', obj], capture_output=True, text=True, check=True).stdout
    defs, undefs = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in DEFINED:
            defs.add(parts[2])
        elif len(parts) == 2 and parts[0] == 'U':
            undefs.add(parts[1])
    return defs, undefs


def check(build, component):
    objs = sorted(o for pattern in OBJECTS[component] for o in glob.glob(os.path.join(build, pattern)))
    if not objs:
        sys.exit(f'layers.py: no object files of {component} under {build}: build first')
    level = {name: i for i, layer in enumerate(LAYERS[component]) for name in layer}
    owner, calls = {}, {}
    for obj in objs:
        defs, undefs = symbols(obj)
        name = file_of(obj)
        if name not in level:
            sys.exit(f'layers.py: {component}: {name}.c is in no layer: add it to LAYERS')
        for d in defs:
            owner[d] = name
        calls[name] = undefs
    bad = 0
    print(f'{component}:')
    for name in sorted(calls, key=lambda n: (level[n], n)):
        callees = sorted({owner[u] for u in calls[name] if u in owner and owner[u] != name})
        print(f'  {name} -> {" ".join(callees) or "-"}')
        for callee in callees:
            if level[callee] <= level[name]:
                print(f'  ** {name}.c calls {callee}.c, which is {"beside" if level[callee] == level[name] else "above"} it')
                bad += 1
    return bad


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    bad = sum(check(sys.argv[1], c) for c in LAYERS)
    print(f'{bad} call(s) against the layers' if bad else 'every call goes down')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
