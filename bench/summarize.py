#!/usr/bin/env python3
"""Turn the raw lines of bench/poll_scale.sh (results.txt) into the
Markdown tables of bench/README.md.

  summarize.py results.txt [machine.txt]

Every figure is the median over the rounds with [min-max]; a ratio is
taken round by round (the runs of one round are next to each other in
time) and then its median is shown.
"""
import statistics
import sys
from collections import defaultdict

TARGET_CPU_RATIO = 10.0     # ftmond needs >= 10x less CPU per job poll
TARGET_RSS_MIB = 32.0       # at 10,000 jobs
TARGET_RATE_RATIO = 0.5     # within 50% of wrk with the same connections


def fmt(v, digits):
    return "%.*f" % (digits, v)


def stat(values, digits=0):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med, digits)
    return "%s [%s–%s]" % (fmt(med, digits), fmt(min(values), digits), fmt(max(values), digits))


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def parse(path):
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
            elif p[0] == "sweep":
                sweep.append((int(p[1]), p[2], float(p[3]), float(p[4]), float(p[6])))
            elif p[0] in ("ftmond", "py-naive", "py-tuned"):
                rounds[int(p[1])][rnd][p[0]] = {
                    "iv": p[2], "rps": float(p[3]), "cpu": float(p[4]), "polls": int(p[5]),
                    "cpk": float(p[6]), "hwm": int(p[7]) / 1024, "rss": int(p[8]) / 1024}
            elif p[0].startswith("wrk-"):
                rounds[int(p[1])][rnd][p[0]] = {"rps": float(p[3])}
    return rounds, sweep, prime


def per_round(rs, fn):
    out = []
    for r in rs.values():
        try:
            out.append(fn(r))
        except (KeyError, ZeroDivisionError):
            pass
    return out


def wrk_mix(r):
    # ftmond's mix is one job GET + one events GET: the rate of that mix
    # over the same connections is the harmonic mean of the two rates.
    return 2 / (1 / r["wrk-job"]["rps"] + 1 / r["wrk-events"]["rps"])


def main():
    rounds, sweep, prime = parse(sys.argv[1])
    out = []
    if len(sys.argv) > 2:
        out.append("Machine:\n")
        with open(sys.argv[2]) as f:
            out.extend("    " + line.rstrip() for line in f)
        out.append("")

    out.append("| N | poll_interval | ftmond req/s | wrk job URL req/s | wrk events URL req/s "
               "| wrk mix req/s | ftmond/wrk mix | ftmond CPU s/1000 polls "
               "| pypoller CPU s/1000 polls | pypoller/ftmond CPU | ftmond VmHWM MiB "
               "| ftmond VmRSS end MiB |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for n in sorted(rounds):
        rs = rounds[n]
        iv = next(iter(rs.values()))["ftmond"]["iv"]
        ft = lambda k: per_round(rs, lambda r: r["ftmond"][k])
        rate_ratio = per_round(rs, lambda r: r["ftmond"]["rps"] / wrk_mix(r))
        cpu_ratio = per_round(rs, lambda r: r["py-naive"]["cpk"] / r["ftmond"]["cpk"])
        out.append("| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            n, iv, stat(ft("rps")),
            stat(per_round(rs, lambda r: r["wrk-job"]["rps"])),
            stat(per_round(rs, lambda r: r["wrk-events"]["rps"])),
            stat(per_round(rs, wrk_mix)), stat(rate_ratio, 3), stat(ft("cpk"), 3),
            stat(per_round(rs, lambda r: r["py-naive"]["cpk"]), 3), stat(cpu_ratio, 2),
            stat(ft("hwm"), 1), stat(ft("rss"), 1)))
        verdicts.append((n, med(cpu_ratio), med(ft("hwm")), med(rate_ratio)))

    out.append("")
    out.append("Python baselines (same rounds; `naive` = urllib, new connection per request, "
               "INSERT OR IGNORE of the whole page; `tuned` = one keep-alive connection, "
               "walk stops at the stored event id):")
    out.append("")
    out.append("| N | mode | req/s | CPU s/1000 polls | its CPU / ftmond's | VmHWM MiB |")
    out.append("|---|---|---|---|---|---|")
    for n in sorted(rounds):
        rs = rounds[n]
        for mode in ("py-naive", "py-tuned"):
            out.append("| %d | %s | %s | %s | %s | %s |" % (
                n, mode[3:], stat(per_round(rs, lambda r: r[mode]["rps"])),
                stat(per_round(rs, lambda r: r[mode]["cpk"]), 3),
                stat(per_round(rs, lambda r: r[mode]["cpk"] / r["ftmond"]["cpk"]), 2),
                stat(per_round(rs, lambda r: r[mode]["hwm"]), 1)))

    if sweep:
        out.append("")
        out.append("Saturation sweep (one run each): job polls asked for = N / poll_interval.")
        out.append("")
        out.append("| N | poll_interval | polls/s asked | ftmond req/s | ftmond CPU busy | "
                   "CPU s/1000 polls |")
        out.append("|---|---|---|---|---|---|")
        for n, iv, rps, cpu, cpk in sweep:
            ms = float(iv[:-2])
            out.append("| %d | %s | %.0f | %.0f | %.0f%% | %.3f |" % (
                n, iv, n / ms * 1000, rps, 100 * cpu / window_of(sys.argv[1]), cpk))

    if prime:
        out.append("")
        out.append("First pass (one run; every job's events page is new: ~392 points each):")
        out.append("")
        out.append("| N | ftmond s | ftmond jobs/s | pypoller naive s | pypoller jobs/s |")
        out.append("|---|---|---|---|---|")
        for n in sorted({k[1] for k in prime}):
            f, p = prime.get(("ftmond", n)), prime.get(("pypoller", n))
            out.append("| %d | %s | %s | %s | %s |" % (
                n, "%.1f" % f if f else "-", "%.0f" % (n / f) if f else "-",
                "%.1f" % p if p else "-", "%.0f" % (n / p) if p else "-"))

    out.append("")
    out.append("Targets:")
    for n, cpu_ratio, hwm, rate_ratio in verdicts:
        if cpu_ratio is not None:
            out.append("- N=%d: CPU per job poll, pypoller/ftmond = %.2fx (target >= %.0fx): %s"
                       % (n, cpu_ratio, TARGET_CPU_RATIO,
                          "met" if cpu_ratio >= TARGET_CPU_RATIO else "MISSED"))
        if rate_ratio is not None:
            out.append("- N=%d: request rate, ftmond/wrk = %.3f (target >= %.2f): %s"
                       % (n, rate_ratio, TARGET_RATE_RATIO,
                          "met" if rate_ratio >= TARGET_RATE_RATIO else "MISSED"))
        if n >= 10000 and hwm is not None:
            out.append("- N=%d: ftmond peak RSS %.1f MiB (target < %.0f MiB): %s"
                       % (n, hwm, TARGET_RSS_MIB, "met" if hwm < TARGET_RSS_MIB else "MISSED"))
    print("\n".join(out))


def window_of(path):
    """The measured window in seconds, from the machine file's WINDOW=."""
    try:
        with open(path.replace("results.txt", "machine.txt")) as f:
            for line in f:
                for word in line.split():
                    if word.startswith("WINDOW="):
                        return float(word[7:].rstrip("s"))
    except OSError:
        pass
    return 10.0


if __name__ == "__main__":
    main()
