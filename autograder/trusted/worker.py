"""A warm trusted-trainer process: ``python -m autograder.trusted.worker``.

Reads one JSON job per line on stdin, answers one JSON result per line. Imports Keras once.
Never imports student code: jobs carry configs, not code. Anything the backend prints goes to
stderr, so the protocol channel stays clean.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback


def main() -> None:
    channel = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol's own copy of stdout
    os.dup2(2, 1)  # from here on, prints (Python or C++) land on stderr
    sys.stdout = sys.stderr
    from course import runtime

    parser = argparse.ArgumentParser(prog="python -m autograder.trusted.worker")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the backend")
    parser.add_argument("--compile-cache", default="", help="folder for JAX's compiled programs")
    args = parser.parse_args()
    runtime.configure(threads=args.threads, compile_cache=args.compile_cache)
    import keras  # noqa: F401  (paid once per worker)

    from .trainer import run
    from .trainer_pool import failure

    channel.write(json.dumps({"ready": str(runtime.detect_device())}) + "\n")
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        try:
            result = run(job)
        except Exception:  # a grader bug must not cost the other submissions their worker
            result = failure(job, "internal grader error (not your fault; tell the "
                                  "instructor):\n" + traceback.format_exc(limit=4))
        channel.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
