#!/usr/bin/python3
"""Generate SciPy reference data for src/dsp (filter coefficients and sosfilt outputs).

Run once when the designs change, then commit src/dsp/testdata/. The build and the tests never
need Python: dsp_test only reads the text files written here.

    apt-get install python3-scipy      # Debian 12: SciPy 1.10, NumPy 1.24
    /usr/bin/python3 tools/gen_filter_refs.py [--out src/dsp/testdata]

Files:
  butter_sos.txt      coefficients of many designs (Butterworth low/high/band-pass, orders 1-6,
                      rates 25-2000 Hz, edges near 0 and near Nyquist; iirnotch; mains notch
                      cascades). Per design a line
                        <kind> <rate_hz> <order> <f1_hz> <f2_hz> <quality> <sections>
                      followed by one line per section: b0 b1 b2 a1 a2 (a0 = 1), as SciPy gives
                      them (butter(..., output='sos'), iirnotch). Unused fields are 0.
  sosfilt_<rate>.txt  for rates 200, 500, 1000 and 2000 Hz: an input of integer ADC-like counts
                      (fixed seed: noise + DC + drift + mains and in-band sines) and the output of
                      scipy.signal.sosfilt for eight filters. Each output column k is stored as
                      integers n with y = n * scale_k, scale_k = 1e-7 * RMS(y_k): quantisation
                      error <= 5e-8 of the RMS, far below the 1e-5 test tolerance, at a third of
                      the size of %.17g.

Rules shared with the C++ code (src/dsp/filter_design.hpp):
  adapt_band(low, high, rate):    high' = min(high, 0.9 * rate / 2); low' = min(low, high' / 2)
  mains_notches(f0, rate, max, Q): iirnotch(k f0, Q) for k = 1, 2, ... while k f0 <= max and
                                   k f0 < 0.95 * rate / 2
"""

import argparse
import os

import numpy as np
import scipy
import scipy.signal as sig

RATES = [200, 500, 1000, 2000]
SAMPLES = 500
SEED = 20240611
EMG_BAND = (20.0, 450.0)
NOTCH_Q = 30.0


def adapt_band(low, high, rate):
    high = min(high, 0.9 * rate / 2)
    return min(low, high / 2), high


def mains_notches(mains, rate, max_hz, q):
    rows = []
    k = 1
    while k * mains <= max_hz and k * mains < 0.95 * rate / 2:
        b, a = sig.iirnotch(k * mains, q, fs=rate)
        rows.append(np.concatenate([b, a]))
        k += 1
    return np.array(rows).reshape(-1, 6)


def design(kind, rate, order, f1, f2, q):
    if kind == "lowpass":
        return sig.butter(order, f1, btype="low", fs=rate, output="sos")
    if kind == "highpass":
        return sig.butter(order, f1, btype="high", fs=rate, output="sos")
    if kind == "bandpass":
        return sig.butter(order, [f1, f2], btype="band", fs=rate, output="sos")
    if kind == "notch":
        b, a = sig.iirnotch(f1, q, fs=rate)
        return np.concatenate([b, a]).reshape(1, 6)
    if kind == "mains":
        return mains_notches(f1, rate, f2, q)
    raise ValueError(kind)


def design_line(kind, rate, order, f1, f2, q):
    return f"{kind} {rate:g} {order} {f1:.17g} {f2:.17g} {q:g}"


def coefficient_designs():
    out = []
    for rate in [25, 200, 1024, 2000]:
        nyq = rate / 2
        for order in range(1, 7):
            for f in [0.4, 0.45 * nyq]:
                out.append(("lowpass", rate, order, f, 0.0, 0.0))
            for f in [0.5, 0.2 * nyq]:
                out.append(("highpass", rate, order, f, 0.0, 0.0))
            for lo, hi in [(3.0, 8.0), EMG_BAND]:
                lo, hi = adapt_band(lo, hi, rate)
                out.append(("bandpass", rate, order, lo, hi, 0.0))
        for f0 in [50.0, 60.0]:
            if f0 < nyq:
                out.append(("notch", rate, 0, f0, 0.0, NOTCH_Q))
                out.append(("notch", rate, 0, f0, 0.0, 5.0))
            if f0 < 0.95 * nyq:
                out.append(("mains", rate, 0, f0, adapt_band(*EMG_BAND, rate)[1], NOTCH_Q))
    return out


def filtered_designs(rate):
    low, high = adapt_band(*EMG_BAND, rate)
    return [
        ("lowpass", rate, 2, 0.4, 0.0, 0.0),  # gravity: poles very close to z = 1
        ("lowpass", rate, 4, 6.0, 0.0, 0.0),  # linear envelope
        ("highpass", rate, 2, 20.0, 0.0, 0.0),
        ("highpass", rate, 4, 20.0, 0.0, 0.0),
        ("bandpass", rate, 2, low, high, 0.0),
        ("bandpass", rate, 4, low, high, 0.0),
        ("notch", rate, 0, 50.0, 0.0, NOTCH_Q),
        ("mains", rate, 0, 60.0, high, NOTCH_Q),
    ]


def test_input(rate, rng):
    t = np.arange(SAMPLES) / rate
    x = (300.0 + rng.normal(0.0, 200.0, SAMPLES) + 500.0 * np.sin(2 * np.pi * 1.0 * t)
         + 150.0 * np.sin(2 * np.pi * 8.0 * t + 0.3) + 400.0 * np.sin(2 * np.pi * 50.0 * t + 1.0)
         + 100.0 * np.sin(2 * np.pi * 150.0 * t) + 120.0 * np.sin(2 * np.pi * 60.0 * t + 2.0)
         + 100.0 * np.sin(2 * np.pi * 0.37 * rate * t))
    return np.round(x)  # integer counts: exactly representable in float32, as the device sends


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(here, "..", "src", "dsp", "testdata"))
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    header = (f"# generated by tools/gen_filter_refs.py (scipy {scipy.__version__}, "
              f"numpy {np.__version__}); do not edit\n")

    with open(os.path.join(args.out, "butter_sos.txt"), "w") as f:
        f.write(header)
        f.write("# <kind> <rate_hz> <order> <f1_hz> <f2_hz> <quality> <sections>, then b0 b1 b2 a1 a2 per section\n")
        for d in coefficient_designs():
            sos = design(*d)
            f.write(f"{design_line(*d)} {len(sos)}\n")
            for row in sos:
                assert row[3] == 1.0
                f.write(" ".join(f"{v:.17g}" for v in (row[0], row[1], row[2], row[4], row[5])) + "\n")

    rng = np.random.default_rng(SEED)
    for rate in RATES:
        x = test_input(rate, rng)
        designs = filtered_designs(rate)
        ys = [sig.sosfilt(design(*d), x) for d in designs]
        scales = [1e-7 * np.sqrt(np.mean(y * y)) for y in ys]
        with open(os.path.join(args.out, f"sosfilt_{rate}.txt"), "w") as f:
            f.write(header)
            f.write("# columns: input counts, then per filter round(y / scale)\n")
            f.write(f"samples {SAMPLES}\n")
            for d, scale in zip(designs, scales):
                f.write(f"filter {design_line(*d)} {scale:.17g}\n")
            for i in range(SAMPLES):
                cols = [f"{x[i]:.0f}"] + [f"{round(y[i] / s):d}" for y, s in zip(ys, scales)]
                f.write(" ".join(cols) + "\n")


if __name__ == "__main__":
    main()
