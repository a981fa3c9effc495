"""Benchmark the shipped digit recognizer: accuracy, throughput, latency, cold start.

Run from a checkout:  .venv/bin/python benchmarks/recognizer.py [--model M] [--data DIR]

Prints, for the shipped model (or --model):
- MNIST test accuracy through ``predict_proba`` (test digits inverted to dark-on-light);
- digits/second for batched ``predict_proba`` (crops in, normalisation included) and for
  ``predict_normalized`` (already-normalised 28x28 inputs: the network alone);
- milliseconds for a single crop after warm-up (median of many calls);
- seconds to the first prediction in a fresh Python process (import, load, predict one crop).
Targets for this 2-core machine are printed beside the measurements; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

TARGET_BATCHED = 5000.0  # digits/s, batched predict_proba
TARGET_SINGLE_MS = 5.0  # one crop after warm-up

COLD_START = """
import sys, time
t0 = time.perf_counter()
import numpy as np
from marksocr.recognition import DigitClassifier
clf = DigitClassifier.load(sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None)
crop = np.full((60, 40), 255, np.uint8)
crop[10:50, 18:23] = 0  # a dark vertical bar: a "1" on paper
p = clf.predict_proba([crop])
print("FIRST_PREDICTION", time.perf_counter() - t0, int(p.argmax()), flush=True)
"""


def _timed(fn, *args) -> tuple[object, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def accuracy_and_throughput(clf, crops: np.ndarray, labels: np.ndarray) -> None:
    from marksocr.recognition.normalize import normalize_batch

    clf.predict_proba(list(crops[:256]))  # warm-up: trace the compiled function
    probs, secs = _timed(clf.predict_proba, list(crops))
    acc = float((probs.argmax(axis=1) == labels).mean())
    rate = len(crops) / secs
    print(f"MNIST test accuracy (predict_proba, {len(crops)} digits): {acc:.4%}  "
          f"({int((probs.argmax(axis=1) != labels).sum())} errors)")
    print(f"batched predict_proba (crops in, normalisation included): {rate:,.0f} digits/s "
          f"({secs:.2f} s)  target >= {TARGET_BATCHED:,.0f}: {_verdict(rate >= TARGET_BATCHED)}")
    (x, _blank), norm_secs = _timed(normalize_batch, list(crops))
    print(f"  normalisation alone (normalize_batch; predict_proba overlaps it with the network): {len(crops) / norm_secs:,.0f} digits/s "
          f"({1000 * norm_secs / len(crops):.3f} ms per crop)")
    clf.predict_normalized(x[:256])
    _, nsecs = _timed(clf.predict_normalized, x)
    print(f"batched predict_normalized (28x28 normalised in, network only): {len(x) / nsecs:,.0f} digits/s ({nsecs:.2f} s)")


def single_crop_latency(clf, crops: np.ndarray, repeats: int = 300) -> None:
    for crop in crops[:20]:
        clf.predict_proba([crop])  # warm-up
    times = []
    for crop in crops[:repeats]:
        times.append(_timed(clf.predict_proba, [crop])[1])
    ms = 1000 * np.asarray(times)
    median = float(np.median(ms))
    print(f"single crop predict_proba after warm-up: median {median:.2f} ms, p90 {np.percentile(ms, 90):.2f} ms "
          f"over {len(ms)} calls  target <= {TARGET_SINGLE_MS:g} ms: {_verdict(median <= TARGET_SINGLE_MS)}")
    big = [np.kron(c, np.ones((3, 3), np.uint8)) for c in crops[:repeats]]  # 84x84, like a photo crop
    for crop in big[:20]:
        clf.predict_proba([crop])
    ms_big = 1000 * np.asarray([_timed(clf.predict_proba, [c])[1] for c in big])
    print(f"single 84x84 crop predict_proba after warm-up: median {np.median(ms_big):.2f} ms")


def cold_start(model: str) -> None:
    """Spawn a fresh interpreter; time from spawn until it has printed its first prediction."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", COLD_START, model], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})
    inner = None
    for line in proc.stdout:
        if line.startswith("FIRST_PREDICTION"):
            wall = time.perf_counter() - start
            inner = float(line.split()[1])
            break
    proc.wait()
    if inner is None:
        print(f"fresh process: no prediction (exit code {proc.returncode})")
        return
    print(f"fresh process, spawn to first prediction: {wall:.2f} s (inside the process, import+load+predict: {inner:.2f} s)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, help="model file (default: the shipped models/digits.keras)")
    parser.add_argument("--data", type=Path, help="folder of MNIST IDX .gz files")
    args = parser.parse_args(argv)

    from marksocr.recognition import DigitClassifier
    from marksocr.recognition.baselines import machine
    from marksocr.recognition.mnist import load_mnist
    from marksocr.versions import versions_line

    print(f"machine: {machine()}")
    print(f"libraries: {versions_line()}")
    clf, load_secs = _timed(DigitClassifier.load, args.model)
    print(f"model: {clf.path} ({clf.version}), loaded in {load_secs:.2f} s in this process")
    test = load_mnist("test", args.data)
    crops = 255 - test.images  # dark ink on light paper, as users pass crops
    accuracy_and_throughput(clf, crops, test.labels)
    single_crop_latency(clf, crops)
    cold_start(str(args.model or ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
