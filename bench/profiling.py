"""Summarise a py-spy raw (collapsed stacks) profile: where the server's time went.

    python -m bench.profiling /tmp/bot.txt [--top 25] [--match bot/]

Prints the functions with the most samples on the stack (inclusive) and on top (self), so a
profile taken under `python -m bench.ack --profile DIR` reads in a terminal without a flame graph.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def summarise(path: Path, *, top: int = 25, match: str = "") -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = [f.strip() for f in stack.split(";") if f.strip()]
        # py-spy's "process ..." / "thread ..." roots are not code
        frames = [f for f in frames if "(" in f]
        for frame in set(frames):
            if match in frame:
                inclusive[frame] += n
        if frames:
            own[frames[-1]] += n
    out = [f"{total} samples", "", "inclusive (on the stack):"]
    out += [f"  {n / total:6.1%}  {frame}" for frame, n in inclusive.most_common(top)]
    out += ["", "self (on top):"]
    out += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--match", default="", help="only frames whose text contains this (inclusive list)")
    args = parser.parse_args()
    print(summarise(args.path, top=args.top, match=args.match))


if __name__ == "__main__":
    main()
