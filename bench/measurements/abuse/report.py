"""The abuse part's tables (attacks; baselines) and its raw figures
(WORK_DIR/abuse-results.txt)."""
from __future__ import annotations

from .baselines import BASELINE_LINES, median
from .settings import BASELINE_ROUNDS


def figure(attack, r):
    """The attack's own figure, short, for the table."""
    if "error" in r:
        return "failed: " + r["error"][:60]
    if attack == "nested":
        text = f"{r['cpu_per_line_s'] * 1000:.1f} ms CPU/line, {r['answered']}/{r['lines']} answered, {r['codes']}"
    elif attack == "noread":
        text = (f"{r['taken']} taken; SIGTERM to exit {r['term_s']:.1f} s" + (" (SIGKILL)" if r["term_killed"] else "")
                + f", {r['term_cpu_s']:.1f} s CPU")
    elif attack == "batch":
        text = f"{mb(r['reply_bytes'])} reply ({r['reply_kind']}{'' if r['reply_complete'] else ', incomplete'}) in {r['reply_seconds']:.2f} s"
    elif attack == "watch":
        text = f"{r['watches']} watches held {r['held_s']:.0f} s"
    elif attack == "strangers":
        text = f"{r['open_after_2s']} open after 2 s; root {r['root_calls']}; strangers got {r['stranger_replies']}"
    else:
        text = f"{r['received_bytes'] / 1e3:.1f} of {r['full_bytes'] / 1e3:.1f} KB, {r['whole_replies']}/2 replies whole"
    if r.get("capped"):
        text += "; " + r["capped"]
    return text


def mb(n):
    return f"{n / 1e6:.2f} MB" if n >= 10000 else f"{n} B"


def print_table(attacks, results, with_before, out):
    def number(r, key, digits=2):
        if "error" in r or key not in r or r[key] != r[key]:
            return "-"
        text = f"{r[key]:.{digits}f}"
        if key == "op_max_s" and r.get("op_pending"):
            text = ">=" + text  # a call still unanswered when the attack ended
        return text
    sides = ["before", "after"] if with_before else ["after"]
    header = ["attack"]
    for title in ("CPU s", "RSS +MiB", "op max s"):
        header += [f"{title} {side}" for side in sides]
    header += [f"{side}" for side in sides]
    rows = [header]
    for attack in attacks:
        row = [attack]
        for key, digits in (("cpu_s", 2), ("rss_growth_mib", 1), ("op_max_s", 3)):
            row += [number(results.get((side, attack), {"error": "not run"}), key, digits) for side in sides]
        row += [figure(attack, results.get((side, attack), {"error": "not run"})) for side in sides]
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = len(header) - len(sides)
    for row in rows:
        cells = [cell.ljust(widths[i]) if i == 0 or i >= numeric else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        print("  ".join(cells).rstrip(), file=out)


def baseline_figure(row, r):
    if "error" in r:
        return "failed: " + r["error"][:80]
    if row == "rpc16":
        return f"{r['calls_per_s']:.0f} calls/s, p99 {r['p99_us']:.0f} us, server CPU {r['server_cpu_s']:.1f} s"
    if row == "snapshot":
        return f"bpfleetd {r['rpc_ms']:.0f} ms, raw {r['raw_ms']:.1f} ms, x{r['ratio']:.1f} ({r['reply_bytes'] / 1e6:.1f} MB)"
    return f"{r['cores']:.3f} cores, {r['notifications_per_sub_s']:.2f} notifications/sub/s, {r['seq_gaps']} seq gaps"


def print_baselines(rows, runs, with_before, out):
    """runs[(label, row)]: the runs' figures, in round order."""
    sides = ["before", "after"] if with_before else ["after"]
    header = ["row"] + [f"{side} median (runs)" for side in sides] + (["after / before"] if with_before else [])
    table = [header]
    for row in rows:
        for title, key, form in BASELINE_LINES[row]:
            line = [title]
            medians = {}
            for side in sides:
                got = runs.get((side, row), [])
                values = [r[key] for r in got if "error" not in r]
                if not values:
                    line.append("failed" if got else "-")
                    continue
                medians[side] = median(values)
                cells = [form.format(r[key]) if "error" not in r else "failed" for r in got]
                line.append(f"{form.format(medians[side])} ({', '.join(cells)})")
            if with_before:
                b, a = medians.get("before"), medians.get("after")
                line.append(f"{a / b:.2f}" if a is not None and b else "-")
            table.append(line)
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    for line in table:
        print("  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line)).rstrip(), file=out)


def value_text(value):
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def write_results(path, binaries, results, runs, baselines):
    """Every figure as LABEL.ATTACK.KEY=VALUE; the baselines' runs, medians and after / before."""
    with open(path, "w") as f:
        for label, binary in binaries:
            f.write(f"{label}.binary={binary}\n")
        for (label, attack), r in results.items():
            for key, value in r.items():
                f.write(f"{label}.{attack}.{key}={value_text(value)}\n")
        if baselines:
            f.write(f"baseline.rounds={BASELINE_ROUNDS}\n")
        for row in baselines:
            medians = {}
            for label, _ in binaries:
                got = runs.get((label, row), [])
                for n, r in enumerate(got, 1):
                    for key, value in r.items():
                        f.write(f"{label}.{row}.r{n}.{key}={value_text(value)}\n")
                for _, key, _ in BASELINE_LINES[row]:  # LABEL.ROW.KEY: the median of the runs that worked
                    values = [r[key] for r in got if "error" not in r]
                    f.write(f"{label}.{row}.{key}.runs={','.join(value_text(v) for v in values)}\n")
                    if values:
                        medians[(label, key)] = median(values)
                        f.write(f"{label}.{row}.{key}={value_text(medians[(label, key)])}\n")
            for _, key, _ in BASELINE_LINES[row]:
                if medians.get(("before", key)) and ("after", key) in medians:
                    f.write(f"baseline.{row}.{key}.after_over_before={medians[('after', key)] / medians[('before', key)]:.6g}\n")
