#!/usr/bin/python3
"""Fit the weights of the detector's evidence (src/detect/evidence.hpp) to simulated days.

Input: CSV files written by `spasmwatch eval --suite --seed N --evidence FILE` (one row per
judged activation, with the truth event it overlaps most). Use development seeds only (< 1000):
the held-out seeds (>= 1000) that README and DETECTOR.md report must never be seen here.

Labels. An activation is a spasm-like event to report (1) when it is the activation that best
matches a truth event (closest onset among those overlapping it) and it is a fair rendering of
it (onset within 0.5 s, or covered by it at least 30%); it is voluntary activity (0) when it
overlaps no truth event, or when another activation already matches its truth event (reporting
it too would be a false alarm). Other overlapping activations (a long run of voluntary bursts
that happens to contain a spasm) are left out of the fit: neither answer is plainly right.

Model: logistic regression with an L2 penalty on standardised evidence (Newton steps, so the
result does not depend on a learning rate or a random start), false alarms weighted by
--negative-weight (a false alarm costs a patient's trust more than a miss of one of many
events), and scenarios where the target is stricter (rest, sleep: <= 0.1 false alarms an hour)
weighted by --quiet-weight. --cv scores 11 folds of seeds, each with a fit to the others (how the
settings were chosen: the highest recall whose out-of-fold false alarms meet every target with a
margin). Output: src/detect/evidence_weights.inc, in evidence.hpp's order.

Needs python3-numpy (apt-get install -y python3-numpy); run it with /usr/bin/python3.
Usage: tools/train_detector.py ev/s*.csv [--cv] [--validate FILE ...] [--out src/detect/evidence_weights.inc]
"""
import argparse
import csv
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
QUIET = {"rest", "sleep", "night-cramps", "night-jaw", "quiet-rest", "clonus", "low-snr"}


def evidence_names():
    text = (ROOT / "src/detect/evidence.hpp").read_text()
    return re.findall(r"^\s*X\((\w+), (-?[\d.]+)\)", text, re.M)


def load(paths, names):
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.append(row)
    # Group the activations overlapping each truth event.
    groups = defaultdict(list)
    for i, r in enumerate(rows):
        if r["truth_onset_error_s"] != "":
            truth_onset = float(r["start_s"]) - float(r["truth_onset_error_s"])
            key = (r["scenario"], r["site"], r["seed"], round(truth_onset, 3))
            groups[key].append(i)
    label = [0.0] * len(rows)
    use = [True] * len(rows)
    for members in groups.values():
        best = min(members, key=lambda i: abs(float(rows[i]["truth_onset_error_s"])))
        for i in members:
            r = rows[i]
            fair = abs(float(r["truth_onset_error_s"])) <= 0.5 or float(r["truth_cover"]) >= 0.3
            if i == best:
                label[i] = 1.0 if fair else 0.0
                use[i] = fair
            else:
                label[i] = 0.0
    x = np.array([[float(r[n]) for n, _ in names] for r in rows])
    y = np.array(label)
    keep = np.array(use)
    return rows, x, y, keep


def fit(x, y, w, l2, start, quiet=False):
    # Standardise every column but the bias (column 0).
    mu = x.mean(axis=0)
    sd = x.std(axis=0)
    mu[0], sd[0] = 0.0, 1.0
    sd[sd < 1e-9] = 1.0
    z = (x - mu) / sd
    # Start from the hand-set weights, expressed on the standardised scale. (Standardising only
    # conditions the Newton steps; the penalty below is on the raw weights.)
    beta = start * sd
    beta[0] = start[0] + float(np.dot(start[1:], mu[1:]))
    # The penalty is on the weights as used (raw scale): a rare indicator (small spread) cannot
    # grow a huge weight from a handful of activations it happens to separate.
    penalty = l2 / sd**2
    penalty[0] = 0.0
    def objective(b):
        s = z @ b
        return float(np.sum(w * (np.logaddexp(0, s) - y * s)) + 0.5 * np.sum(penalty * b * b))

    # Newton steps, halved until the penalised loss falls (a full step can overshoot and cycle
    # where a rare indicator nearly separates its rows).
    loss = objective(beta)
    for iteration in range(200):
        p = 1 / (1 + np.exp(-np.clip(z @ beta, -40, 40)))
        grad = z.T @ (w * (p - y)) + penalty * beta
        hess = (z * (w * p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(beta))
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-6:
            candidate = beta - scale * step
            candidate_loss = objective(candidate)
            if candidate_loss <= loss:
                break
            scale *= 0.5
        if scale <= 1e-6:
            break  # no step lowers the loss: converged to rounding
        beta, previous = candidate, loss
        loss = candidate_loss
        if previous - loss < 1e-9 * max(1.0, abs(loss)):
            break
    else:
        sys.exit("train_detector: the fit did not converge in 200 Newton steps")
    if not quiet:
        print(f"fit: {iteration + 1} Newton steps, penalised loss {loss:.3f}")
    raw = beta / sd
    raw[0] = beta[0] - float(np.dot(raw[1:], mu[1:]))
    return raw


def cross_validate(rows, x, y, keep, w, args, hand):
    """11 folds of seeds (seed mod 11): each fold scored by weights fitted to the other ten."""
    seed = np.array([int(r["seed"]) for r in rows])
    seeds = sorted(set(seed.tolist()))
    p = np.zeros(len(rows))
    for k in range(11):
        test = seed % 11 == k
        train = keep & ~test
        fitted = fit(x[train], y[train], w[train], args.l2, hand, quiet=True)
        p[test] = 1 / (1 + np.exp(-np.clip(x[test] @ fitted, -40, 40)))
    print(f"-- cross-validation ({len(seeds)} seeds in 11 folds by seed mod 11, each scored by a fit to the others)")
    for k, (fa, pos, hit, n) in sorted(scenario_counts(rows, p, y, keep, args.threshold).items()):
        print(f"  {k:18s} false alarms {fa:4d} ({fa / n:.2f} a seed, {n} seeds)  positives reported {hit:5d}/{pos:5d}")
    pos = keep & (y == 1)
    print(f"  recall over all positives {(pos & (p >= args.threshold)).sum() / pos.sum():.4f}")


def scenario_counts(rows, p, y, keep, threshold):
    """Per scenario: reported false alarms, positives, positives reported, number of seeds."""
    stats = defaultdict(lambda: [0, 0, 0, set()])
    for i, r in enumerate(rows):
        s = stats[r["scenario"]]
        if y[i] == 0 and p[i] >= threshold:
            s[0] += 1
        if keep[i] and y[i] == 1:
            s[1] += 1
            s[2] += p[i] >= threshold
        s[3].add(r["seed"])
    return {k: (fa, pos, int(hit), len(seeds)) for k, (fa, pos, hit, seeds) in stats.items()}


def seed_ranges(rows):
    """'seeds 1-22 (clonus, ...), 23-222 (rest)': the seeds of each set of scenarios, as ranges."""
    scenarios_of = defaultdict(set)
    for r in rows:
        scenarios_of[int(r["seed"])].add(r["scenario"])
    groups = defaultdict(list)
    for seed in sorted(scenarios_of):
        groups[tuple(sorted(scenarios_of[seed]))].append(seed)
    parts = []
    for scenarios, seeds in groups.items():
        runs, start = [], seeds[0]
        for a, b in zip(seeds, seeds[1:] + [None]):
            if b != a + 1:
                runs.append(f"{start}-{a}" if a != start else f"{a}")
                start = b
        what = "whole suite" if len(scenarios) > 3 else ", ".join(scenarios)
        parts.append(f"{' '.join(runs)} ({what})")
    return "seeds " + "; ".join(parts)


def report(rows, x, y, keep, weights, threshold, title):
    p = 1 / (1 + np.exp(-np.clip(x @ weights, -40, 40)))
    print(f"-- {title} (false alarms counted as activations labelled 0 that would be reported)")
    for k, (fa, pos, hit, _) in sorted(scenario_counts(rows, p, y, keep, threshold).items()):
        print(f"  {k:18s} false alarms {fa:4d}  positives reported {hit:5d}/{pos:5d}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv", nargs="+")
    ap.add_argument("--out", default=str(ROOT / "src/detect/evidence_weights.inc"))
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--negative-weight", type=float, default=10.0)
    ap.add_argument("--quiet-weight", type=float, default=8.0)
    ap.add_argument("--threshold", type=float, default=0.6)
    ap.add_argument("--validate", nargs="*", default=[],
                    help="CSV files of other development seeds to report the fitted weights on")
    ap.add_argument("--cv", action="store_true",
                    help="also cross-validate (11 folds of seeds by seed mod 11) to choose the settings above")
    args = ap.parse_args()

    names = evidence_names()
    rows, x, y, keep = load(args.csv, names)
    seeds = sorted({int(r["seed"]) for r in rows})
    if any(s >= 1000 for s in seeds):
        sys.exit("train_detector: seeds >= 1000 are held out for reporting; do not fit to them")
    hand = np.array([float(w) for _, w in names])
    w = np.where(y == 0, args.negative_weight, 1.0)
    quiet = np.array([r["scenario"] in QUIET for r in rows])
    w = np.where(quiet & (y == 0), w * args.quiet_weight, w)
    w = np.where(keep, w, 0.0)
    # Scenarios simulated for more seeds than the others (extra seeds of the rare hard cases)
    # count as much in total as the others: their rows are weighted by the seed ratio.
    seeds_of = defaultdict(set)
    for r in rows:
        seeds_of[r["scenario"]].add(r["seed"])
    common = min(len(v) for v in seeds_of.values())
    w = w * np.array([common / len(seeds_of[r["scenario"]]) for r in rows])
    print(f"{len(rows)} activations from {seed_ranges(rows)}: {int(y[keep].sum())} to report, "
          f"{int((keep & (y == 0)).sum())} not, {int((~keep).sum())} left out")
    report(rows, x, y, keep, hand, args.threshold, "hand-set weights")
    fitted = fit(x[keep], y[keep], w[keep], args.l2, hand)
    report(rows, x, y, keep, fitted, args.threshold, "fitted weights")
    if args.cv:
        cross_validate(rows, x, y, keep, w, args, hand)
    if args.validate:
        vrows, vx, vy, vkeep = load(args.validate, names)
        if any(int(r["seed"]) >= 1000 for r in vrows):
            sys.exit("train_detector: seeds >= 1000 are held out for reporting; do not validate on them")
        report(vrows, vx, vy, vkeep, hand, args.threshold, "validation, hand-set weights")
        report(vrows, vx, vy, vkeep, fitted, args.threshold, "validation, fitted weights")

    lines = [
        "// Generated by tools/train_detector.py (do not edit): fitted evidence weights, in",
        "// evidence.hpp's order.",
        f"// Data: spasmwatch eval --evidence, {seed_ranges(rows)} ({len(rows)} activations);",
        f"// --l2 {args.l2} --negative-weight {args.negative_weight} --quiet-weight {args.quiet_weight}",
    ]
    for (name, _), value in zip(names, fitted):
        lines.append(f"{value:.6f},  // {name}")
    Path(args.out).write_text("\n".join(lines) + "\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
