"""What the PyTorch peer scripts share: importing torch (or saying it is
missing and exiting 0, so a run without it is not a failure) and timing."""
import statistics
import sys
import time

try:
    import torch  # noqa: F401  (re-exported for the scripts)
except ImportError:
    print("skipped: torch is not installed (pip install torch)")
    sys.exit(0)


def median(fn, warmup=5, reps=30):
    """Median wall seconds of `fn()` over `reps` calls, after `warmup`."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)
