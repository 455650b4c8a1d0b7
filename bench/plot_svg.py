#!/usr/bin/python3
"""Plot benchmark CSV files as one SVG: median time per call against shape.

Usage:
    bench/plot_svg.py [-o OUT.svg] [--title TEXT] FILE.csv [FILE.csv ...]

Every input is a CSV file with a header row that has at least the columns

    shape       "NxD" (rows x features), e.g. 2048x8192
    precision   f32 or f64
    impl        the implementation: libvicreg, blas_floor, pytorch, ...
    median_s    median seconds per call

(vicreg-bench --csv writes these and more; bench/compare_torch.py writes the
same four). Rows from all files are merged; within one file a later row
for the same (shape, precision, impl) replaces an earlier one. Optional
columns that are used when present: flops (of a libvicreg row: orders the
shapes), cpu and blas_threads (shown under the title).

The plot: shapes on x, categorical, ordered by the flops of libvicreg's path
(from the flops column, or else 6 n d min(n, d)); median time on a log y
axis; one series per (impl, precision): colour by implementation, solid
lines for f32 and dashed for f64. When two files both have rows for one
(impl, precision), the later file's rows become the series
"impl (file name)", so sources are never mixed on one line. Standard
library only; the SVG is written by hand.
"""

import argparse
import csv
import math
import os
import sys
from xml.sax.saxutils import escape

COLOURS = {
    "libvicreg": "#1f5fbf",
    "blas_floor": "#6b6b6b",
    "pytorch": "#e0701a",
}
EXTRA_COLOURS = ["#2a9d3c", "#b0299b", "#b8a200", "#17a3b8", "#c0392b", "#7b4fbf"]
IMPL_ORDER = ["libvicreg", "blas_floor", "pytorch"]
PRECISION_STYLE = {
    "f32": {"dash": "", "marker": "circle"},
    "f64": {"dash": "7,4", "marker": "square"},
}


def parse_shape(shape):
    """Returns (n, d) of "NxD", or None."""
    parts = shape.lower().split("x")
    if len(parts) != 2:
        return None
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        return None


def default_flops(shape):
    """The flops of libvicreg's automatic path: 2 branches of SYRK m(m+1)k
    plus GEMM 2 n d m, with m = min(n, d) and k = max(n, d)."""
    nd = parse_shape(shape)
    if nd is None:
        return float("inf")
    n, d = nd
    m, k = min(n, d), max(n, d)
    return 2.0 * (m * (m + 1) * k + 2.0 * n * d * m)


def read_rows(paths):
    """Returns (data, flops, info): data maps (shape, precision, series) to
    the median seconds. A series is named after its impl; when an earlier
    file already supplied the same (impl, precision), the later file's rows
    become a series of their own, "impl (file name)", so that sources are
    never mixed on one line (compare_torch.py also times libvicreg)."""
    data = {}
    flops = {}         # shape -> flops of the first libvicreg row
    info = {"cpu": set(), "blas_threads": set()}
    claimed = set()    # (impl, precision) supplied by an earlier file
    for path in paths:
        stem = os.path.splitext(os.path.basename(path))[0]
        this_file = set()
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            missing = {"shape", "precision", "impl", "median_s"} - set(reader.fieldnames or [])
            if missing:
                sys.exit("plot_svg.py: %s lacks the column(s) %s" % (path, ", ".join(sorted(missing))))
            for row in reader:
                try:
                    t = float(row["median_s"])
                except ValueError:
                    continue
                if not (t > 0.0 and math.isfinite(t)):
                    continue
                shape = row["shape"].strip()
                impl, prec = row["impl"].strip(), row["precision"].strip()
                this_file.add((impl, prec))
                series = "%s (%s)" % (impl, stem) if (impl, prec) in claimed else impl
                data[(shape, prec, series)] = t
                if impl == "libvicreg" and row.get("flops") and shape not in flops:
                    try:
                        flops[shape] = float(row["flops"])
                    except ValueError:
                        pass
                for col in info:
                    if row.get(col):
                        info[col].add(row[col].strip())
        claimed |= this_file
    if not data:
        sys.exit("plot_svg.py: no rows with a positive median_s")
    return data, flops, info


def format_seconds(t):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("\u00b5s", 1e-6), ("ns", 1e-9)):
        if t >= scale * 0.9999:
            v = t / scale
            return ("%g %s" % (float("%.3g" % v), unit))
    return "%g s" % t


def format_flops(f):
    if f >= 1e9:
        return "%.3g GFLOP" % (f / 1e9)
    if f >= 1e6:
        return "%.3g MFLOP" % (f / 1e6)
    return "%.3g FLOP" % f


def marker_svg(kind, x, y, colour, tooltip):
    tip = "<title>%s</title>" % escape(tooltip)
    if kind == "square":
        return ('<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s" stroke="white" '
                'stroke-width="0.8">%s</rect>' % (x - 3.5, y - 3.5, colour, tip))
    return ('<circle cx="%.1f" cy="%.1f" r="4" fill="%s" stroke="white" stroke-width="0.8">%s</circle>'
            % (x, y, colour, tip))


def plot(data, flops, info, title):
    shapes = sorted({k[0] for k in data},
                    key=lambda s: (flops.get(s, default_flops(s)), s))
    def impl_rank(name):
        base = name.split(" (")[0]
        return IMPL_ORDER.index(base) if base in IMPL_ORDER else len(IMPL_ORDER)

    series = sorted({(k[2], k[1]) for k in data}, key=lambda s: (impl_rank(s[0]), s[0], s[1]))
    colours = dict(COLOURS)
    extra = iter(EXTRA_COLOURS * 4)
    for impl, _ in series:
        if impl not in colours:
            colours[impl] = next(extra)

    times = list(data.values())
    lo = math.floor(math.log10(min(times)))
    hi = math.ceil(math.log10(max(times)))
    if hi == lo:
        hi += 1

    # The legend sits right of the plot; make room for its longest label.
    longest = max(len("%s %s" % s) for s in series)
    left, right, top, bottom = 80, max(190, 60 + 7 * longest), 70, 80
    width, height = 790 + right, 560
    pw, ph = width - left - right, height - top - bottom

    def x_of(i):
        return left + pw * (i + 0.5) / len(shapes)

    def y_of(t):
        return top + ph * (hi - math.log10(t)) / (hi - lo)

    out = []
    out.append('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
               'viewBox="0 0 %d %d" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">'
               % (width, height, width, height))
    out.append('<rect width="100%" height="100%" fill="white"/>')
    out.append('<text x="%.1f" y="28" font-size="17" font-weight="bold" text-anchor="middle">%s</text>'
               % (left + pw / 2, escape(title)))
    sub = []
    if info["cpu"]:
        sub.append(", ".join(sorted(info["cpu"])))
    if info["blas_threads"]:
        sub.append("BLAS threads: " + ", ".join(sorted(info["blas_threads"])))
    if sub:
        out.append('<text x="%.1f" y="48" font-size="12" fill="#444" text-anchor="middle">%s</text>'
                   % (left + pw / 2, escape("; ".join(sub))))

    # Grid and y ticks: a labelled line per decade, light lines at 2..9.
    for e in range(lo, hi + 1):
        y = y_of(10.0 ** e)
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#c8c8c8" stroke-width="1"/>'
                   % (left, y, left + pw, y))
        out.append('<text x="%d" y="%.1f" font-size="12" text-anchor="end" dominant-baseline="middle">%s</text>'
                   % (left - 8, y, escape(format_seconds(10.0 ** e))))
        if e < hi:
            for m in range(2, 10):
                ym = y_of(m * 10.0 ** e)
                out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ececec" stroke-width="1"/>'
                           % (left, ym, left + pw, ym))
    # x ticks: shape, then its flops.
    for i, s in enumerate(shapes):
        x = x_of(i)
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ececec" stroke-width="1"/>'
                   % (x, top, x, top + ph))
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black" stroke-width="1"/>'
                   % (x, top + ph, x, top + ph + 5))
        out.append('<text x="%.1f" y="%d" font-size="12" text-anchor="middle">%s</text>'
                   % (x, top + ph + 19, escape(s)))
        f = flops.get(s, default_flops(s))
        if math.isfinite(f):
            out.append('<text x="%.1f" y="%d" font-size="10" fill="#555" text-anchor="middle">%s</text>'
                       % (x, top + ph + 33, escape(format_flops(f))))
    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="black" stroke-width="1"/>'
               % (left, top, pw, ph))
    out.append('<text x="%.1f" y="%d" font-size="13" text-anchor="middle">%s</text>'
               % (left + pw / 2, height - 18,
                  escape("shape n x d (rows x features), ordered by the flops of libvicreg's path")))
    out.append('<text transform="translate(22,%.1f) rotate(-90)" font-size="13" text-anchor="middle">%s</text>'
               % (top + ph / 2, escape("median time per call (log scale)")))

    # Series: a polyline through consecutive shapes that have a value.
    for impl, prec in series:
        colour = colours[impl]
        style = PRECISION_STYLE.get(prec, {"dash": "2,3", "marker": "circle"})
        dash = ' stroke-dasharray="%s"' % style["dash"] if style["dash"] else ""
        run = []
        runs = []
        for i, s in enumerate(shapes):
            t = data.get((s, prec, impl))
            if t is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((x_of(i), y_of(t), s, t))
        if run:
            runs.append(run)
        for r in runs:
            if len(r) > 1:
                pts = " ".join("%.1f,%.1f" % (x, y) for x, y, _, _ in r)
                out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>'
                           % (pts, colour, dash))
            for x, y, s, t in r:
                out.append(marker_svg(style["marker"], x, y, colour,
                                      "%s %s %s: %s" % (impl, prec, s, format_seconds(t))))

    # Legend, right of the plot.
    lx, ly = left + pw + 18, top + 8
    out.append('<text x="%d" y="%d" font-size="12" font-weight="bold">series</text>'
               % (lx, ly))
    for k, (impl, prec) in enumerate(series):
        y = ly + 22 + 22 * k
        colour = colours[impl]
        style = PRECISION_STYLE.get(prec, {"dash": "2,3", "marker": "circle"})
        dash = ' stroke-dasharray="%s"' % style["dash"] if style["dash"] else ""
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>'
                   % (lx, y, lx + 34, y, colour, dash))
        out.append(marker_svg(style["marker"], lx + 17, y, colour, "%s %s" % (impl, prec)))
        out.append('<text x="%d" y="%d" font-size="12" dominant-baseline="middle">%s</text>'
                   % (lx + 42, y, escape("%s %s" % (impl, prec))))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description="Plot benchmark CSV files (time against shape) as SVG.")
    ap.add_argument("csv", nargs="+", help="CSV files with columns shape, precision, impl, median_s")
    ap.add_argument("-o", "--out", default="vicreg-bench.svg", help="the SVG to write")
    ap.add_argument("--title", default="VICReg loss + both gradients: median time per call",
                    help="the plot title")
    args = ap.parse_args()
    data, flops, info = read_rows(args.csv)
    svg = plot(data, flops, info, args.title)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
