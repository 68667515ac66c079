#!/usr/bin/env python3
"""Read Prometheus text exposition on stdin; print one line per sample
("name {labels} value"); exit 1 naming every line that breaks the format:
not name{label="v",...} value, a sample before its TYPE, or a metric
whose samples are not together."""
import re
import sys

SAMPLE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)'
                    r'(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                    r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})?'
                    r' (-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)')
typed, seen, bad, cur, n = set(), set(), [], None, 0
for line in sys.stdin.read().splitlines():
    if line.startswith('# HELP ') or line.startswith('# TYPE '):
        parts = line.split(' ', 3)
        if len(parts) < 4:
            bad.append('short comment: ' + line)
        elif parts[1] == 'TYPE':
            if parts[3] not in ('counter', 'gauge', 'histogram',
                                'summary', 'untyped'):
                bad.append('bad type: ' + line)
            typed.add(parts[2])
        continue
    m = SAMPLE.fullmatch(line)
    if not m:
        bad.append('not a sample: ' + line)
        continue
    name = m.group(1)
    if name not in typed:
        bad.append('no TYPE before: ' + line)
    if name != cur and name in seen:
        bad.append('not grouped: ' + line)
    seen.add(name)
    cur = name
    n += 1
    print(name, m.group(2) or '', m.group(3))
if bad or n == 0:
    print('BAD:', bad or 'no samples', file=sys.stderr)
    sys.exit(1)
