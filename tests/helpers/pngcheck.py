#!/usr/bin/python3
"""pngcheck.py: decode a PNG with the standard library (zlib) and check
that a rendered ftmon report looks as its data says.

Usage: pngcheck.py FILE.png WIDTH HEIGHT CHECKS.json

CHECKS.json: {"area_fill": "#rrggbb", "charts": [CHART, ...]} where each
CHART (in page order, top to bottom) is {"x": [lo, hi], "y": [lo, hi],
"curves": [{"color": "#rrggbb", "points": [[x, y], ...]}], "rings":
[{"color": "#rrggbb", "at": [x, y]}]}.  The plot areas are found as the
rectangles filled with exactly area_fill; a data point (x, y) maps
linearly onto its chart's area (x lo..hi left to right, y lo..hi bottom
to top).  For every curve point, a pixel near that spot must have the
curve's colour, and in that pixel column the colour must appear nowhere
far from it inside the area (the curve is where the data says, not
elsewhere).  Prints TAP lines (no plan) and exits 1 on any failure.
"""

import json
import struct
import sys
import zlib


def decode(path):
    """(width, height, rows of (r, g, b) tuples) of an 8-bit RGB/RGBA PNG."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, ihdr = 8, [], None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    w, h, depth, ctype, _, _, interlace = ihdr
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("unsupported PNG: depth %d colour type %d" % (depth, ctype))
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(b"".join(idat))
    stride = w * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        unfilter(f, line, prev, bpp)
        rows.append([tuple(line[i:i + 3]) for i in range(0, stride, bpp)])
        prev = line
    return w, h, rows


def unfilter(f, line, prev, bpp):
    n = len(line)
    if f == 1:
        for i in range(bpp, n):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif f == 2:
        for i in range(n):
            line[i] = (line[i] + prev[i]) & 0xFF
    elif f == 3:
        for i in range(n):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + prev[i]) >> 1)) & 0xFF
    elif f == 4:
        for i in range(n):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pred) & 0xFF


def rgb(hexcolor):
    return tuple(int(hexcolor[i:i + 2], 16) for i in (1, 3, 5))


def near(a, b, tol=60):
    return sum((x - y) ** 2 for x, y in zip(a, b)) <= tol * tol


def areas(rows, fill):
    """Bounding boxes (x0, y0, x1, y1) of the runs of rows holding long
    stretches of exactly fill, top to bottom.  Grid lines on the edges may
    cover a pixel or two of the fill: the boxes can be that much smaller,
    within the checks' tolerance."""
    boxes, cur = [], None
    for y, row in enumerate(rows):
        xs = [x for x, p in enumerate(row) if p == fill]
        if len(xs) >= 20:
            x0, x1 = xs[0], xs[-1]
            # Grid lines cross the area: a gap of a few rows goes on.
            if cur and y <= cur[3] + 4:
                cur = (min(cur[0], x0), cur[1], max(cur[2], x1), y)
            else:
                if cur:
                    boxes.append(cur)
                cur = (x0, y, x1, y)
    if cur:
        boxes.append(cur)
    return [b for b in boxes if b[3] - b[1] >= 50]


n = 0
failed = 0


def ok(cond, what):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n, what))
    if not cond:
        failed += 1
    return cond


def main():
    path, want_w, want_h, checks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    spec = json.load(open(checks))
    w, h, rows = decode(path)
    ok((w, h) == (want_w, want_h), "png: %dx%d as asked (got %dx%d)" % (want_w, want_h, w, h))
    white = sum(1 for row in rows for p in row if p == (255, 255, 255))
    ok(white < 0.97 * w * h, "png: not blank (%.1f%% white)" % (100.0 * white / (w * h)))
    boxes = areas(rows, rgb(spec["area_fill"]))
    ok(len(boxes) >= len(spec["charts"]), "png: %d chart areas found (want %d): %s" %
       (len(boxes), len(spec["charts"]), boxes))
    for chart, box in zip(spec["charts"], boxes):
        check_chart(rows, chart, box)


def check_chart(rows, chart, box):
    x0, y0, x1, y1 = box
    (xl, xh), (yl, yh) = chart["x"], chart["y"]

    def at(x, y):
        return (round(x0 + (x - xl) / (xh - xl) * (x1 - x0)),
                round(y1 - (y - yl) / (yh - yl) * (y1 - y0)))

    for curve in chart.get("curves", []):
        col = rgb(curve["color"])
        for x, y in curve["points"]:
            px, py = at(x, y)
            hit = [yy for yy in range(y0, y1 + 1) if near(rows[yy][px], col)]
            close = [yy for yy in hit if abs(yy - py) <= 3]
            ok(close, "%s at (%g, %g): its colour at pixel (%d, %d)" % (curve["color"], x, y, px, py))
            ok(all(abs(yy - py) <= 4 for yy in hit),
               "%s at (%g, %g): nowhere else in column %d (%s)" % (curve["color"], x, y, px, hit[:8]))
    for ring in chart.get("rings", []):
        col = rgb(ring["color"])
        px, py = at(*ring["at"])
        dark = [(xx, yy) for yy in range(py - 9, py + 10) for xx in range(px - 9, px + 10)
                if near(rows[yy][xx], col, 80)]
        ok(len(dark) >= 10, "ring %s around (%d, %d): %d pixels" % (ring["color"], px, py, len(dark)))


if __name__ == "__main__":
    main()
    sys.exit(1 if failed else 0)
