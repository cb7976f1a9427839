"""Instructions per uplink of the in-process pipeline, counted by valgrind's callgrind.

Wall-clock rates on a shared machine swing by a factor of two from one minute to the next; an
instruction count does not: the same code, corpus and interpreter give the same count, whatever
else runs. Use it to compare two versions of the code (run it in each checkout), not as a rate:

    python -m bench.instructions                # this checkout
    python -m bench.instructions --pages 60     # more pages measured (slower)
    python -m bench.instructions --cache        # and cache misses, and a cycle estimate

Fewer instructions is not always less time: compiling the hot modules with Cython counted 8.7%
fewer instructions and ran no faster (its bigger code missed the instruction cache 20% more
often). ``--cache`` shows that: compare the cycle estimates as well as the instructions.

The corpus (the throughput benchmark's, 60k uplinks) is built here, natively; the pipeline then
runs in a child process under callgrind with instrumentation off (about 5x slower) until the
engine is warm, and on for the measured pages only. Needs ``valgrind`` (callgrind_control,
callgrind_annotate) on the PATH. Not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import gc
import os
import pickle
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CORPUS_UPLINKS = 60_000


def _child(workdir: Path, warm: int, measured: int) -> None:
    from bench._pipeline_support import build_engine, daemon_logging, run_pipeline_timed

    corpus = pickle.loads((workdir / "corpus.pickle").read_bytes())
    gc.collect()
    gc.freeze()
    daemon_logging()
    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        engine = build_engine(Path(tmp), corpus.tokens)
        run_pipeline_timed(engine, corpus.pages[:warm])
        (workdir / "ready").write_text(str(os.getpid()))
        while not (workdir / "go").exists():
            time.sleep(0.05)
        uplinks, _seconds, _pages, _spent = run_pipeline_timed(engine, corpus.pages[warm : warm + measured])
        (workdir / "uplinks").write_text(str(uplinks))
        os._exit(0)  # what follows (closing, freeing) is not the pipeline's


def _totals(out: Path) -> dict[str, int]:
    """The program's total of each event callgrind recorded (``Ir``; with ``--cache-sim``, the
    misses ``I1mr``, ``D1mr``, ``D1mw``, ``ILmr``, ``DLmr``, ``DLmw`` too)."""
    report = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    events: list[str] = []
    for line in report.splitlines():
        if line.startswith("Events recorded:"):
            events = line.split(":", 1)[1].split()
        elif "PROGRAM TOTALS" in line and events:
            counts = [int(word.replace(",", "")) for word in line.split() if word.replace(",", "").isdigit()]
            return dict(zip(events, counts))
    raise RuntimeError(f"no PROGRAM TOTALS in callgrind_annotate's report of {out}")


def cycle_estimate(totals: dict[str, int]) -> int:
    """KCachegrind's cycle estimate: an instruction is a cycle, a first-level cache miss 10 more,
    a last-level miss 100 more. Cruder than a CPU, but deterministic, and unlike instructions alone
    it sees that bigger code (a compiled module, say) misses the instruction cache more often."""
    first = totals.get("I1mr", 0) + totals.get("D1mr", 0) + totals.get("D1mw", 0)
    last = totals.get("ILmr", 0) + totals.get("DLmr", 0) + totals.get("DLmw", 0)
    return totals["Ir"] + 10 * first + 100 * last


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=110, help="pages run before counting starts (default 110)")
    parser.add_argument("--pages", type=int, default=30, help="pages counted (default 30, about 11k uplinks)")
    parser.add_argument("--cache", action="store_true",
                        help="simulate the caches too (about twice as slow): cache misses and a cycle estimate per uplink")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        _child(args.child, args.warm, args.pages)
        return 0
    missing = [tool for tool in ("valgrind", "callgrind_control", "callgrind_annotate") if shutil.which(tool) is None]
    if missing:
        print(f"needs valgrind's {', '.join(missing)} on the PATH (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    from bench._pipeline_support import build_corpus

    with tempfile.TemporaryDirectory(prefix="bench-instructions-") as tmp:
        workdir = Path(tmp)
        print(f"building the corpus ({CORPUS_UPLINKS:,} uplinks) ...", flush=True)
        corpus = build_corpus(CORPUS_UPLINKS)
        corpus.simulator = None
        if args.warm + args.pages > len(corpus.pages):
            print(f"the corpus has {len(corpus.pages)} pages: --warm + --pages must not exceed that", file=sys.stderr)
            return 2
        (workdir / "corpus.pickle").write_bytes(pickle.dumps(corpus))
        out = workdir / "callgrind.out"
        child = subprocess.Popen(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", *(["--cache-sim=yes"] if args.cache else []),
             f"--callgrind-out-file={out}", sys.executable,
             "-m", "bench.instructions", "--child", str(workdir), "--warm", str(args.warm), "--pages", str(args.pages)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        print(f"warming the engine on {args.warm} pages under valgrind (instrumentation off) ...", flush=True)
        while not (workdir / "ready").exists():
            if child.poll() is not None:
                print(f"the child exited with status {child.returncode} before it was ready", file=sys.stderr)
                return 1
            time.sleep(0.5)
        pid = (workdir / "ready").read_text()
        subprocess.run(["callgrind_control", "--instr=on", pid], capture_output=True, check=True)
        (workdir / "go").touch()
        print(f"counting {args.pages} pages ...", flush=True)
        if child.wait() != 0:
            print(f"the child exited with status {child.returncode}", file=sys.stderr)
            return 1
        uplinks = int((workdir / "uplinks").read_text())
        totals = _totals(out)
    if args.cache:
        per = {event: count / uplinks for event, count in totals.items()}
        print(f"per uplink: {per['I1mr']:,.0f} instruction-cache misses, {per['D1mr'] + per['D1mw']:,.0f} data-cache misses, "
              f"{per['ILmr'] + per['DLmr'] + per['DLmw']:,.0f} last-level misses; cycle estimate "
              f"{cycle_estimate(totals) / uplinks:,.0f}")
    total = totals["Ir"]
    print(f"{total / uplinks:,.0f} instructions per uplink ({uplinks:,} uplinks, pages {args.warm}-{args.warm + args.pages - 1}; "
          f"{sys.implementation.name} {sys.version.split()[0]} at {sys.executable})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
