#!/usr/bin/env python3
"""Writes a synthetic order export for tests, demos and benchmarks: customers who buy again at varied rates, Chinese
names and numbers, items with categories, orders paid, shipped, refunded, closed or left unpaid, over two years
before --now. Repeat buyers follow a heavy tail, as real stores' do.

    scripts/gen-orders.py ORDERS [--customers N] [--seed N] [--now 2026-12-01] [--format generic|taobao] [--gbk]
        > orders.csv

`generic` is Sparrow's own CSV (order_id, customer_id, phone, name, created_at, paid_at, status, amount, items,
categories); `taobao` the seller centre's 订单报表 columns that Sparrow reads, with its quirks (="…" ids, ' before
phones, 元 after amounts, local times); --gbk encodes the file as Taobao exports it.

    scripts/gen-orders.py --after STORE --campaign C [--history orders.csv] [--base-rate 0.05] [--lift 0.03]
        [--window-days 3] [--seed N] > after.csv

writes instead the orders that follow a campaign sent with a holdout, with an effect planted: each recipient of the
campaign (read from Sparrow's store) buys once within the window after their message was sent (or, held out, would
have been) with the chance --base-rate, and those sent to with --base-rate + --lift. Generic CSV without a header,
to append to the history (--history, a generic export, gives each buyer the customer id it has there); what was
planted goes to stderr. `sparrow effect` should find the lift within its
interval.
"""
import argparse
import datetime
import random
import sqlite3
import sys

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彬鹏辉建国宇浩然子涵欣怡梓轩雨桐一诺思远"
ITEMS = [("女士羊毛外套", "外套", 499), ("男士羽绒服", "外套", 699), ("羊绒围巾", "配饰", 199), ("真丝睡衣", "内衣", 329),
         ("保温杯", "家居", 89), ("有机红茶", "食品", 68), ("手工香皂", "个护", 39), ("瑜伽垫", "运动", 129),
         ("儿童雨靴", "童装", 99), ("蓝牙耳机", "数码", 259)]
PREFIXES = ["138", "139", "150", "187", "198", "130", "131", "186", "133", "153", "189", "199"]
# Shares of the states an order ends in; Taobao's texts for them.
STATES = [("completed", 0.70, "交易成功"), ("shipped", 0.06, "卖家已发货，等待买家确认"),
          ("paid", 0.04, "买家已付款，等待卖家发货"), ("unpaid", 0.08, "等待买家付款"),
          ("refunded", 0.07, "交易关闭"), ("closed", 0.05, "交易被淘宝关闭")]
TAOBAO = ["订单编号", "买家会员名", "买家实际支付金额", "订单状态", "收货人姓名", "联系手机", "订单创建时间", "订单付款时间",
          "宝贝标题"]
GENERIC = ["order_id", "customer_id", "phone", "name", "created_at", "paid_at", "status", "amount", "items",
           "categories"]


def csv_field(value):
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("orders", type=int, nargs="?", default=0)
    parser.add_argument("--after", metavar="STORE", help="the store of the campaign whose effect to plant")
    parser.add_argument("--campaign")
    parser.add_argument("--base-rate", type=float, default=0.05)
    parser.add_argument("--lift", type=float, default=0.03)
    parser.add_argument("--window-days", type=float, default=3)
    parser.add_argument("--history", help="a generic export whose customer ids the buyers keep")
    parser.add_argument("--customers", type=int, default=0, help="default: a third of the orders")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--now", default="2026-12-01")
    parser.add_argument("--format", choices=["generic", "taobao"], default="generic")
    parser.add_argument("--gbk", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    if args.after:
        if not args.campaign:
            parser.error("--after needs --campaign")
        return after(args, rng)
    customers = args.customers or max(1, args.orders // 3)
    now = datetime.datetime.fromisoformat(args.now)
    people = []
    for index in range(customers):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        phone = rng.choice(PREFIXES) + f"{rng.randrange(10 ** 8):08d}"
        people.append((f"c{index:07d}", name, phone))
    weights = [1.0 / (1 + rank) ** 0.8 for rank in range(customers)]  # a heavy tail of repeat buyers
    states = [s[0] for s in STATES]
    shares = [s[1] for s in STATES]
    texts = {s[0]: s[2] for s in STATES}
    out = sys.stdout.buffer
    header = GENERIC if args.format == "generic" else TAOBAO
    lines = [",".join(header)]
    chosen = rng.choices(range(customers), weights=weights, k=args.orders)
    for number, who in enumerate(chosen):
        customer, name, phone = people[who]
        title, category, price = rng.choice(ITEMS)
        created = now - datetime.timedelta(seconds=rng.randrange(730 * 86400))
        state = rng.choices(states, weights=shares)[0]
        paid = None if state in ("unpaid", "closed") else created + datetime.timedelta(seconds=rng.randrange(30, 3600))
        amount = f"{price * rng.choice([1, 1, 1, 2, 3]) * rng.choice([1.0, 0.9, 0.8]):.2f}"
        order = f"{2800000000000 + number}"
        if args.format == "generic":
            row = [order, customer, phone, name, created.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
                   paid.strftime("%Y-%m-%dT%H:%M:%S+08:00") if paid else "", state, amount, title, category]
        else:
            row = [f'="{order}"', customer, amount + "元", texts[state], name, "'" + phone,
                   created.strftime("%Y-%m-%d %H:%M:%S"), paid.strftime("%Y-%m-%d %H:%M:%S") if paid else "", title]
        lines.append(",".join(csv_field(field) for field in row))
        if len(lines) >= 10000:
            out.write(("\r\n" if args.format == "taobao" else "\n").join(lines).encode("gbk" if args.gbk else "utf-8"))
            out.write(b"\r\n" if args.format == "taobao" else b"\n")
            lines = []
    if lines:
        out.write(("\r\n" if args.format == "taobao" else "\n").join(lines).encode("gbk" if args.gbk else "utf-8"))
        out.write(b"\r\n" if args.format == "taobao" else b"\n")


def after(args, rng):
    """The orders after a campaign, with its effect planted (see the module's doc)."""
    store = sqlite3.connect(f"file:{args.after}?mode=ro", uri=True)
    sent = store.execute("SELECT recipient, sendAt FROM message WHERE campaignID = ?", (args.campaign,)).fetchall()
    held = store.execute(
        "SELECT recipient, sendAt FROM skipped WHERE campaignID = ? AND status = 'held-out' AND recipient IS NOT NULL",
        (args.campaign,)).fetchall()
    if not sent:
        sys.exit(f"gen-orders: campaign {args.campaign} has no messages in {args.after}")
    window = int(args.window_days * 86400)
    customers = {}
    if args.history:
        with open(args.history, encoding="utf-8") as history:
            header = history.readline().rstrip("\n").split(",")
            who, phone = header.index("customer_id"), header.index("phone")
            for line in history:
                fields = line.rstrip("\n").split(",")
                customers[fields[phone]] = fields[who]
    lines = []
    buyers = {"sent": 0, "held out": 0}
    for group, rows, rate in (("sent", sent, args.base_rate + args.lift), ("held out", held, args.base_rate)):
        for number, send_at in rows:
            if rng.random() >= rate:
                continue
            buyers[group] += 1
            title, category, price = rng.choice(ITEMS)
            paid = datetime.datetime.fromtimestamp(send_at + rng.randrange(60, window), datetime.timezone.utc)
            stamp = paid.strftime("%Y-%m-%dT%H:%M:%SZ")
            national = number[3:] if number.startswith("+86") else number
            lines.append(",".join(csv_field(field) for field in [
                f"a{len(lines) + 1:07d}", customers.get(national, f"p{national}"), national, "", stamp, stamp, "paid",
                f"{price:.2f}", title,
                category]))
    sys.stdout.write("".join(line + "\n" for line in lines))
    print(f"gen-orders: planted {args.base_rate + args.lift:.4f} against {args.base_rate:.4f}: "
          f"{buyers['sent']} of {len(sent)} sent to bought, {buyers['held out']} of {len(held)} held out",
          file=sys.stderr)


if __name__ == "__main__":
    main()
