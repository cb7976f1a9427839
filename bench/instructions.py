"""Instructions per uplink of the in-process pipeline, counted by valgrind's callgrind.

Wall-clock rates on a shared machine swing by a factor of two from one minute to the next; an
instruction count does not: the same code, corpus and interpreter give the same count, whatever
else runs. Use it to compare two versions of the code (run it in each checkout), not as a rate:

    python -m bench.instructions                # this checkout
    python -m bench.instructions --pages 30     # more pages measured (slower)

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


def _total_instructions(out: Path) -> int:
    report = subprocess.run(["callgrind_annotate", str(out)], capture_output=True, text=True, check=True).stdout
    for line in report.splitlines():
        if "PROGRAM TOTALS" in line:
            return int(line.split()[0].replace(",", ""))
    raise RuntimeError(f"no PROGRAM TOTALS in callgrind_annotate's report of {out}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.split("\n\n")[0])
    parser.add_argument("--warm", type=int, default=110, help="pages run before counting starts (default 110)")
    parser.add_argument("--pages", type=int, default=30, help="pages counted (default 30, about 11k uplinks)")
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
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable,
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
        total = _total_instructions(out)
    print(f"{total / uplinks:,.0f} instructions per uplink ({uplinks:,} uplinks, pages {args.warm}-{args.warm + args.pages - 1}; "
          f"{sys.implementation.name} {sys.version.split()[0]} at {sys.executable})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
