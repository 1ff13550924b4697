#!/usr/bin/env python3
"""Turn the raw lines of bench/poll_scale.sh (results.txt) into the
Markdown tables of bench/README.md.

  summarize.py results.txt [machine.txt]
  summarize.py --first-pass results.txt     (poll_scale.sh FIRSTPASS=1)

Every figure is the median over the rounds with [min–max]; a ratio is
taken round by round (the runs of one round are next to each other in
time) and then its median is shown.
"""
import statistics
import sys
from collections import defaultdict

# Issue 12's targets (the earlier ones: 10x on static pages, RSS < 32 MiB,
# 0.5 of wrk; see bench/README.md).
TARGET_CPU_RATIO = 10.0     # live pages: >= 10x less CPU per job poll than naive Python
TARGET_TUNED_RATIO = 4.0    # ... and >= 4x less than the tuned Python poller
TARGET_RSS_MIB = 24.0       # at 10,000 jobs
TARGET_US_RATIO = 1.1       # CPU per request <= 1.1x the plain libcurl client
SCENARIOS = ("static", "live")


def stat(values, digits=0):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return "%.*f" % (digits, med)
    return "%.*f [%.*f–%.*f]" % (digits, med, digits, min(values), digits, max(values))


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def run_fields(p):
    d = {"iv": p[2], "rps": float(p[3]), "cpu": float(p[4]), "polls": int(p[5]),
         "cpk": float(p[6]), "hwm": int(p[7]) / 1024, "rss": int(p[8]) / 1024}
    d["pps"] = None
    if len(p) > 11:
        d.update(busy=float(p[9]), steal=float(p[10]), warm=float(p[11]))
    return d


def parse(path, window):
    rounds = defaultdict(lambda: defaultdict(dict))  # n -> round -> kind -> fields
    sweep, prime = [], {}
    rnd = 0
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "round":
                rnd = int(p[1])
            elif p[0] == "prime":
                prime[(p[1], int(p[2]))] = float(p[3])
            elif p[0].startswith("sweep"):
                d = run_fields(p)
                d["n"] = int(p[1])
                sweep.append(d)
            elif p[0].startswith(("ftmond-", "ref-", "py-")):
                d = run_fields(p)
                d["pps"] = d["polls"] / window if not p[0].startswith("py-") else d["rps"] / 2
                rounds[int(p[1])][rnd][p[0]] = d
            elif p[0].startswith("wrk-"):
                rounds[int(p[1])][rnd][p[0]] = {"rps": float(p[3])}
            elif p[0].startswith("curl-"):
                rounds[int(p[1])][rnd][p[0]] = {"rps": float(p[3]), "cpu": float(p[4]),
                                                "us": float(p[5])}
    return rounds, sweep, prime


def per_round(rs, fn):
    out = []
    for r in rs.values():
        try:
            out.append(fn(r))
        except (KeyError, ZeroDivisionError, TypeError):
            pass
    return out


def wrk_mix(r):
    # ftmond's static mix is one job GET + one events GET: the rate of that
    # mix over the same connections is the harmonic mean of the two rates.
    return 2 / (1 / r["wrk-job"]["rps"] + 1 / r["wrk-events"]["rps"])


def window_of(machine):
    try:
        with open(machine) as f:
            for word in f.read().split():
                if word.startswith("WINDOW="):
                    return float(word[7:].rstrip("s"))
    except (OSError, TypeError):
        pass
    return 10.0


def main_table(out, rounds, scen, verdicts):
    out.append("| N | poll_interval | ftmond req/s | wrk job URL req/s | wrk events URL req/s "
               "| wrk mix req/s | ftmond/wrk mix | ftmond CPU s/1000 job polls "
               "| pypoller CPU s/1000 job polls | pypoller/ftmond CPU | ftmond peak RSS MiB "
               "| ftmond VmRSS end MiB |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ft_key, py_key = "ftmond-" + scen, "py-naive-" + scen
    for n in sorted(rounds):
        rs = rounds[n]
        if not per_round(rs, lambda r: r[ft_key]):
            continue
        iv = per_round(rs, lambda r: r[ft_key]["iv"])[0]
        ft = lambda k: per_round(rs, lambda r: r[ft_key][k])
        rate_ratio = per_round(rs, lambda r: r[ft_key]["rps"] / wrk_mix(r))
        cpu_ratio = per_round(rs, lambda r: r[py_key]["cpk"] / r[ft_key]["cpk"])
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, iv, stat(ft("rps")),
            stat(per_round(rs, lambda r: r["wrk-job"]["rps"])),
            stat(per_round(rs, lambda r: r["wrk-events"]["rps"])),
            stat(per_round(rs, wrk_mix)), stat(rate_ratio, 3), stat(ft("cpk"), 3),
            stat(per_round(rs, lambda r: r[py_key]["cpk"]), 3), stat(cpu_ratio, 2),
            stat(ft("hwm"), 1), stat(ft("rss"), 1)))
        verdicts.append((scen, n, med(cpu_ratio), med(ft("hwm")), med(rate_ratio)))


def rate_table(out, rounds, window):
    """ftmond's request rate beside wrk's and the plain libcurl client's."""
    out.append("| N | ftmond req/s | plain libcurl req/s | wrk mix req/s | ftmond/wrk "
               "| libcurl/wrk | ftmond/libcurl | ftmond CPU us/req | libcurl CPU us/req "
               "| ftmond/libcurl CPU per request |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for n in sorted(rounds):
        rs = rounds[n]
        if not per_round(rs, lambda r: r["curl-static"]):
            continue
        ft_us = lambda r: r["ftmond-static"]["cpu"] / (r["ftmond-static"]["rps"] * window) * 1e6
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, stat(per_round(rs, lambda r: r["ftmond-static"]["rps"])),
            stat(per_round(rs, lambda r: r["curl-static"]["rps"])),
            stat(per_round(rs, wrk_mix)),
            stat(per_round(rs, lambda r: r["ftmond-static"]["rps"] / wrk_mix(r)), 3),
            stat(per_round(rs, lambda r: r["curl-static"]["rps"] / wrk_mix(r)), 3),
            stat(per_round(rs, lambda r: r["ftmond-static"]["rps"] / r["curl-static"]["rps"]), 3),
            stat(per_round(rs, ft_us), 1),
            stat(per_round(rs, lambda r: r["curl-static"]["us"]), 1),
            stat(per_round(rs, lambda r: ft_us(r) / r["curl-static"]["us"]), 3)))


def ref_table(out, rounds):
    """ftmond against an earlier build (FTMOND_REF) run in the same rounds."""
    out.append("| N | pages | req/s | ref req/s | req/s ratio | CPU s/1000 polls "
               "| ref CPU s/1000 polls | CPU ratio | peak RSS MiB | ref peak RSS MiB |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for n in sorted(rounds):
        rs = rounds[n]
        for scen in SCENARIOS:
            ft, ref = "ftmond-" + scen, "ref-" + scen
            if not per_round(rs, lambda r: (r[ft], r[ref])):
                continue
            col = lambda key, k: stat(per_round(rs, lambda r: r[key][k]), 3)
            out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                n, scen, col(ft, "rps"), col(ref, "rps"),
                stat(per_round(rs, lambda r: r[ft]["rps"] / r[ref]["rps"]), 3),
                col(ft, "cpk"), col(ref, "cpk"),
                stat(per_round(rs, lambda r: r[ft]["cpk"] / r[ref]["cpk"]), 3),
                stat(per_round(rs, lambda r: r[ft]["hwm"]), 1),
                stat(per_round(rs, lambda r: r[ref]["hwm"]), 1)))


def first_pass_rounds(path):
    """n -> round -> kind -> fields, from a FIRSTPASS=1 results file."""
    rounds = defaultdict(lambda: defaultdict(dict))
    rnd = 0
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "round":
                rnd = int(p[1])
            elif p[0] in ("ftmond-first", "ref-first"):
                d = {"wall": float(p[2]), "cpu": float(p[3]), "points": int(p[4])}
                if len(p) > 10 and p[6] == "ping":
                    d.update(ping_med=float(p[7]), ping_p99=float(p[8]),
                             ping_max=float(p[9]), pings=int(p[10]))
                rounds[int(p[1])][rnd][p[0]] = d
            elif p[0] == "py-naive-first":
                rounds[int(p[1])][rnd][p[0]] = {"wall": float(p[2])}
            elif p[0] == "ceiling-first":
                rounds[int(p[1])][rnd][p[0]] = {"rows": int(p[2]), "wall": float(p[3]),
                                                "rate": float(p[4])}
    return rounds


def first_pass_main(path):
    rounds = first_pass_rounds(path)
    out = ["| N | rounds | ftmond s | CPU s | points/s | naive Python s | Python / ftmond "
           "| SQLite ceiling rows/s | ftmond / ceiling | ping median ms | ping p99 ms "
           "| ping max ms |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for n in sorted(rounds):
        rs = rounds[n]
        ft = "ftmond-first"
        full = [r for r in rs.values() if ft in r and "py-naive-first" in r and
                "ceiling-first" in r]
        rate = lambda r: r[ft]["points"] / r[ft]["wall"]
        out.append("| %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, len(full), stat([r[ft]["wall"] for r in full], 2),
            stat([r[ft]["cpu"] for r in full], 2), stat([rate(r) for r in full]),
            stat([r["py-naive-first"]["wall"] for r in full], 2),
            stat([r["py-naive-first"]["wall"] / r[ft]["wall"] for r in full], 2),
            stat([r["ceiling-first"]["rate"] for r in full]),
            stat([rate(r) / r["ceiling-first"]["rate"] for r in full], 2),
            stat([r[ft].get("ping_med") for r in full], 2),
            stat([r[ft].get("ping_p99") for r in full], 1),
            stat([r[ft].get("ping_max") for r in full], 1)))
        refs = [r for r in rs.values() if ft in r and "ref-first" in r]
        if refs:
            out.append("| %d | %d | reference build: %s s | %s | this / reference wall %s "
                       "| CPU %s | | | | %s | %s | %s |" % (
                           n, len(refs), stat([r["ref-first"]["wall"] for r in refs], 2),
                           stat([r["ref-first"]["cpu"] for r in refs], 2),
                           stat([r[ft]["wall"] / r["ref-first"]["wall"] for r in refs], 2),
                           stat([r[ft]["cpu"] / r["ref-first"]["cpu"] for r in refs], 2),
                           stat([r["ref-first"].get("ping_med") for r in refs], 2),
                           stat([r["ref-first"].get("ping_p99") for r in refs], 1),
                           stat([r["ref-first"].get("ping_max") for r in refs], 1)))
    print("\n".join(out))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--first-pass":
        first_pass_main(sys.argv[2])
        return
    machine = sys.argv[2] if len(sys.argv) > 2 else None
    window = window_of(machine)
    rounds, sweep, prime = parse(sys.argv[1], window)
    out = []
    if machine:
        out.append("Machine and run:\n")
        with open(machine) as f:
            out.extend("    " + line.rstrip() for line in f)
        out.append("")

    verdicts = []
    for scen in SCENARIOS:
        title = {"static": "Static pages (no job ever has a new event: the steady state "
                           "the targets were set for)",
                 "live": "Live pages (every job's newest events page gains one event per "
                         "second; ftmond also fetches /checkpoints after new events)"}[scen]
        if not any("ftmond-" + scen in r for rs in rounds.values() for r in rs.values()):
            continue
        out.append("### " + title)
        out.append("")
        main_table(out, rounds, scen, verdicts)
        out.append("")

    if any("curl-static" in r for rs in rounds.values() for r in rs.values()):
        out.append("### Request rate against wrk and a plain libcurl client (static pages)")
        out.append("")
        out.append("`curlmulti.c`: the fastest plain libcurl loop (multi perform/poll, 8 reused "
                   "handles, ftmond's URL mix and headers, bodies copied and dropped), run in "
                   "the same round.")
        out.append("")
        rate_table(out, rounds, window)
        out.append("")

    if any(k.startswith("ref-") for rs in rounds.values() for r in rs.values() for k in r):
        out.append("### Against an earlier build, same rounds (FTMOND_REF)")
        out.append("")
        out.append("Ratios are taken inside each round: this build / the reference.")
        out.append("")
        ref_table(out, rounds)
        out.append("")

    out.append("### Job polls and both Python baselines")
    out.append("")
    out.append("`naive` = urllib (a new connection per request), INSERT OR IGNORE of the whole "
               "page; `tuned` = one keep-alive connection, walk stops at the stored event id.")
    out.append("")
    out.append("| N | pages | poller | job polls/s | req/s | CPU s/1000 job polls "
               "| its CPU / ftmond's | peak RSS MiB |")
    out.append("|---|---|---|---|---|---|---|---|")
    for n in sorted(rounds):
        rs = rounds[n]
        for scen in SCENARIOS:
            ft_key = "ftmond-" + scen
            for who in ("ftmond", "py-naive", "py-tuned"):
                key = who + "-" + scen
                vals = per_round(rs, lambda r: r[key])
                if not vals:
                    continue
                out.append("| %d | %s | %s | %s | %s | %s | %s | %s |" % (
                    n, scen, who, stat([v["pps"] for v in vals]), stat([v["rps"] for v in vals]),
                    stat([v["cpk"] for v in vals], 3),
                    "1" if who == "ftmond" else
                    stat(per_round(rs, lambda r: r[key]["cpk"] / r[ft_key]["cpk"]), 2),
                    stat([v["hwm"] for v in vals], 1)))

    out.append("")
    out.append("### Machine during ftmond's windows")
    out.append("")
    out.append("Whole machine (2 vCPUs = 100 %): busy = user+system+irq, steal = time the "
               "hypervisor gave to other guests.")
    out.append("")
    out.append("| N | pages | machine busy % | steal % | ftmond warm-up s |")
    out.append("|---|---|---|---|---|")
    for n in sorted(rounds):
        for scen in SCENARIOS:
            vals = per_round(rounds[n], lambda r: r["ftmond-" + scen])
            if vals and "busy" in vals[0]:
                out.append("| %d | %s | %s | %s | %s |" % (
                    n, scen, stat([v["busy"] for v in vals]), stat([v["steal"] for v in vals]),
                    stat([v["warm"] for v in vals], 1)))

    if sweep:
        out.append("")
        out.append("### Saturation sweep (static pages, one run each)")
        out.append("")
        out.append("Job polls asked for = N / poll_interval.  CPU busy = ftmond's CPU time / "
                   "window.")
        out.append("")
        out.append("| N | poll_interval | polls/s asked | ftmond job polls/s | ftmond req/s "
                   "| ftmond CPU busy | CPU s/1000 polls | steal % |")
        out.append("|---|---|---|---|---|---|---|---|")
        for d in sweep:
            ms = float(d["iv"][:-2])
            out.append("| %d | %s | %.0f | %.0f | %.0f | %.0f%% | %.3f | %s |" % (
                d["n"], d["iv"], d["n"] / ms * 1000, d["polls"] / window, d["rps"],
                100 * d["cpu"] / window, d["cpk"], "%.0f" % d["steal"] if "steal" in d else "-"))

    if prime:
        out.append("")
        out.append("### First pass (one run; every job's events page is new: ~392 points each)")
        out.append("")
        out.append("| N | ftmond s | ftmond jobs/s | pypoller naive s | pypoller jobs/s |")
        out.append("|---|---|---|---|---|")
        for n in sorted({k[1] for k in prime}):
            f, p = prime.get(("ftmond", n)), prime.get(("pypoller", n))
            out.append("| %d | %s | %s | %s | %s |" % (
                n, "%.1f" % f if f else "-", "%.0f" % (n / f) if f else "-",
                "%.1f" % p if p else "-", "%.0f" % (n / p) if p else "-"))

    out.append("")
    out.append("### Targets (issue 12)")
    out.append("")
    for n in sorted(rounds):
        rs = rounds[n]
        naive = per_round(rs, lambda r: r["py-naive-live"]["cpk"] / r["ftmond-live"]["cpk"])
        tuned = per_round(rs, lambda r: r["py-tuned-live"]["cpk"] / r["ftmond-live"]["cpk"])
        for what, vals, goal in (("naive", naive, TARGET_CPU_RATIO),
                                 ("tuned", tuned, TARGET_TUNED_RATIO)):
            if vals:
                out.append("- live, N=%d: CPU per job poll, %s Python / ftmond = %.2fx "
                           "[%.2f-%.2f] (target >= %.0fx): %s" % (
                               n, what, med(vals), min(vals), max(vals), goal,
                               "met" if med(vals) >= goal else "MISSED"))
        us = per_round(rs, lambda r: r["ftmond-static"]["cpu"] /
                       (r["ftmond-static"]["rps"] * window) * 1e6 / r["curl-static"]["us"])
        if us:
            out.append("- static, N=%d: CPU per request, ftmond / plain libcurl = %.3f "
                       "[%.3f-%.3f] (target <= %.1f): %s" % (
                           n, med(us), min(us), max(us), TARGET_US_RATIO,
                           "met" if med(us) <= TARGET_US_RATIO else "MISSED"))
        for scen in SCENARIOS:
            ref = per_round(rs, lambda r: r["ftmond-" + scen]["cpk"] / r["ref-" + scen]["cpk"])
            if ref:
                out.append("- %s, N=%d: CPU per job poll against the reference build = %.3f "
                           "[%.3f-%.3f] (no regression: <= 1 within the noise)" % (
                               scen, n, med(ref), min(ref), max(ref)))
            hwm = per_round(rs, lambda r: r["ftmond-" + scen]["hwm"])
            if n >= 10000 and hwm:
                out.append("- %s, N=%d: ftmond peak RSS %.1f MiB (target <= %.0f MiB): %s"
                           % (scen, n, max(hwm), TARGET_RSS_MIB,
                              "met" if max(hwm) <= TARGET_RSS_MIB else "MISSED"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
