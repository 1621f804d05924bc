#!/usr/bin/env python3
"""Vectorised NumPy equivalent of tamga's station-level fast path (one election day).

The same stations and probabilities as `src/sim/station.rs`, exported from Rust:

    cargo run --release --example export_stations -- scenarios/kazakhstan-2004.toml official 2004 > /tmp/kz.json
    python3 benches/numpy_baseline.py /tmp/kz.json [RUNS]

Per run, vectorised over all stations (no Python loop over stations): station turnout
(logit-normal) and list preferences (log-normal weights, normalised), candidate appeals
(log-normal), then ballots issued ~ Binomial(registered, t), electronic ~ Binomial(issued,
uptake at e-enabled stations), voters by party ~ Multinomial(electronic, p) and
Multinomial(paper, p), spoiled list and district ballots ~ Binomial(paper voters of the party,
invalid rate), loyal district ballots ~ Binomial(valid, loyalty) to the party's nominee, the rest
~ Multinomial(pool, appeal); national list totals and district round-1 totals. Runoffs are not
simulated here (tamga's figure includes them), which favours NumPy slightly.

Prints the median wall time of one run (single thread, after one warm-up run) and checks the
national turnout against the scenario's mean so a broken baseline cannot pass silently.
"""

import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def load(path):
    with open(path) as f:
        d = json.load(f)
    k = d["parties"]
    reg = np.asarray(d["registered"], dtype=np.int64)
    s = len(reg)
    dist = np.asarray(d["district"], dtype=np.int64)
    districts = d["districts"]
    cmax = max((len(x["party"]) for x in districts), default=0)
    nd = len(districts)
    med = np.zeros((nd, cmax))
    lsd = np.zeros((nd, cmax))
    present = np.zeros((nd, cmax), dtype=bool)
    nominee = -np.ones((nd, k), dtype=np.int64)
    first = np.zeros(nd, dtype=np.int64)
    for i, x in enumerate(districts):
        n = len(x["party"])
        med[i, :n] = x["appeal_median"]
        lsd[i, :n] = x["appeal_log_sd"]
        present[i, :n] = True
        nominee[i] = x["nominee"]
        first[i] = x["first_station"]
    return {
        "k": k,
        "s": s,
        "reg": reg,
        "evoting": np.asarray(d["evoting"], dtype=bool),
        "logit": np.asarray(d["turnout_logit"]),
        "log_pref": np.asarray(d["log_pref"]),
        "turnout_sd": d["turnout_sd"],
        "pref_sd": d["pref_sd"],
        "uptake": d["evoting_uptake"],
        "invalid": d["invalid_rate"],
        "loyalty": d["loyalty"],
        "dist": dist,
        "has_district": nd > 0 and bool((dist >= 0).all()),
        "med": med,
        "lsd": lsd,
        "present": present,
        "nominee": nominee,
        "first": first,
    }


def run(m, rng):
    s, k = m["s"], m["k"]
    t = 1.0 / (1.0 + np.exp(-(m["logit"] + m["turnout_sd"] * rng.standard_normal(s))))
    w = np.exp(m["log_pref"] + m["pref_sd"] * rng.standard_normal((s, k)))
    p = w / w.sum(axis=1, keepdims=True)
    issued = rng.binomial(m["reg"], t)
    electronic = rng.binomial(issued, m["uptake"] * m["evoting"])
    paper = issued - electronic
    e_by_party = rng.multinomial(electronic, p)
    p_by_party = rng.multinomial(paper, p)
    spoiled_list = rng.binomial(p_by_party, m["invalid"])
    spoiled_district = rng.binomial(p_by_party, m["invalid"])
    lists = e_by_party + p_by_party - spoiled_list
    national = lists.sum(axis=0)
    invalid = spoiled_list.sum()
    round1 = None
    if m["has_district"]:
        appeal = m["med"] * np.exp(m["lsd"] * rng.standard_normal(m["med"].shape))
        appeal *= m["present"]
        st_appeal = appeal[m["dist"]]
        st_nominee = m["nominee"][m["dist"]]
        has = st_nominee >= 0
        valid = e_by_party + p_by_party - spoiled_district
        loyal = rng.binomial(valid, m["loyalty"] * has)
        pool = (valid - loyal).sum(axis=1)
        votes = rng.multinomial(pool, st_appeal / st_appeal.sum(axis=1, keepdims=True))
        rows = np.broadcast_to(np.arange(s)[:, None], has.shape)
        np.add.at(votes, (rows[has], st_nominee[has]), loyal[has])
        round1 = np.add.reduceat(votes, m["first"], axis=0)
    return issued.sum(), national, invalid, round1


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "/tmp/kz.json"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    m = load(path)
    rng = np.random.default_rng(2004)
    run(m, rng)  # warm-up
    times = []
    turnouts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        ballots, national, invalid, _ = run(m, rng)
        times.append(time.perf_counter() - t0)
        turnouts.append(ballots / m["reg"].sum())
        assert national.sum() + invalid == ballots
    times.sort()
    expected = float(
        (m["reg"] / (1.0 + np.exp(-m["logit"]))).sum() / m["reg"].sum()
    )
    print(
        json.dumps(
            {
                "numpy": np.__version__,
                "stations": m["s"],
                "runs": runs,
                "median_ms": 1000 * times[len(times) // 2],
                "min_ms": 1000 * times[0],
                "mean_turnout": float(np.mean(turnouts)),
                "turnout_at_mean_logit": expected,
            }
        )
    )


if __name__ == "__main__":
    main()
