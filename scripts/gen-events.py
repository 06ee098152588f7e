#!/usr/bin/env python3
"""Writes a synthetic event log of a Taobao store's orders, as `sparrow flows --stdin` reads it: one JSON object a
line, in time order, shaped like Taobao's trade, refund and logistics messages (`topic`, `id`, `pub_time`, and the
payload as `content`, a JSON string as Taobao sends it), with the buyer's number as `receiver_mobile`.

    scripts/gen-events.py ORDERS [--seed N] [--start 2026-12-01] [--days 7] [--customers N] > events.jsonl

Orders are placed at any hour (fewer at night); 70% are paid, most within minutes, some hours later; the others are
closed when their 24 hours run out (TradeClose) or stay open past the log. Paid orders ship within a day, reach the
buyer's city and are signed for; 5% are refunded; some are rated, 5% of those badly; signed orders complete a few
days later. A tenth of the orders carry their own close time (timeout_action_time: a flash sale's 30 minutes or 2
hours). Times are Beijing time, as Taobao writes them.
"""
import argparse
import datetime
import json
import random

PREFIXES = ["138", "139", "150", "187", "198", "130", "131", "186", "133", "153", "189", "199"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红"
ITEMS = [("女士羊毛外套", 499), ("羊绒围巾", 199), ("保温杯", 89), ("有机红茶", 68), ("手工香皂", 39), ("瑜伽垫", 129)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("orders", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", default="2026-12-01")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--customers", type=int)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = datetime.datetime.fromisoformat(args.start)
    span = args.days * 86400
    customers = [
        (rng.choice(PREFIXES) + "".join(rng.choice("0123456789") for _ in range(8)),
         rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN))
        for _ in range(args.customers or max(1, args.orders * 2 // 3))
    ]
    events = []

    def add(topic, at, content):
        events.append((at, len(events), topic, content))

    for index in range(args.orders):
        tid = str(3_000_000_000 + index)
        phone, name = rng.choice(customers)
        # Daytime is busier: a night hour is kept with a chance of one in three.
        while True:
            created = rng.randrange(span)
            hour = (created // 3600) % 24
            if 8 <= hour < 23 or rng.random() < 1 / 3:
                break
        title, price = rng.choice(ITEMS)
        amount = price * rng.choice([1, 1, 1, 2]) if rng.random() < 0.8 else rng.choice([19, 39, 59, 79])
        order = {"tid": tid, "buyer_nick": name[1:] + str(index % 97), "payment": f"{amount:.2f}",
                 "receiver_mobile": phone, "receiver_name": name, "title": title, "type": "fixed"}
        closes = 86400
        if rng.random() < 0.1:
            closes = rng.choice([1800, 7200])
            order["timeout_action_time"] = stamp(start, created + closes)
        add("taobao_trade_TradeCreate", created, dict(order, created=stamp(start, created)))
        if rng.random() < 0.7:
            paid = created + int(rng.choice([rng.uniform(60, 1500), rng.uniform(60, 1500), rng.uniform(1500, closes)]))
            if paid >= created + closes:
                paid = created + closes - 30
            add("taobao_trade_TradeBuyerPay", paid, {"tid": tid, "pay_time": stamp(start, paid)})
            shipped = paid + rng.randrange(3600, 86400)
            if rng.random() < 0.05:
                refund = paid + rng.randrange(600, 7200)
                add("taobao_refund_RefundCreated", refund, {"tid": tid, "refund_id": "r" + tid,
                                                            "modified": stamp(start, refund)})
                add("taobao_refund_RefundSuccess", refund + 3600, {"tid": tid, "refund_id": "r" + tid,
                                                                   "refund_fee": order["payment"],
                                                                   "modified": stamp(start, refund + 3600)})
                add("taobao_trade_TradeClose", refund + 3601, {"tid": tid, "modified": stamp(start, refund + 3601)})
                continue
            add("taobao_trade_TradeSellerShip", shipped, {"tid": tid, "modified": stamp(start, shipped),
                                                          "company_name": "顺丰", "out_sid": "SF" + tid})
            city = shipped + rng.randrange(86400, 3 * 86400)
            add("taobao_logistics_LogsticDetailTrace", city, {"tid": tid, "action": "SENT_CITY",
                                                              "time": stamp(start, city)})
            signed = city + rng.randrange(1800, 8 * 3600)
            add("taobao_logistics_LogsticDetailTrace", signed, {"tid": tid, "action": "SIGNED",
                                                                "time": stamp(start, signed)})
            completed = signed + rng.randrange(86400, 5 * 86400)
            add("taobao_trade_TradeSuccess", completed, {"tid": tid, "modified": stamp(start, completed)})
            if rng.random() < 0.3:
                rated = completed + rng.randrange(600, 86400)
                add("taobao_trade_TradeRated", rated, {"tid": tid, "result": "bad" if rng.random() < 0.05 else "good",
                                                       "modified": stamp(start, rated)})
        elif rng.random() < 0.9:
            add("taobao_trade_TradeClose", created + closes, {"tid": tid, "modified": stamp(start, created + closes)})

    events.sort()
    for number, (at, _, topic, content) in enumerate(events):
        record = {"topic": topic, "id": f"m{number}-{content['tid']}", "pub_time": stamp(start, at),
                  "content": json.dumps(content, ensure_ascii=False)}
        print(json.dumps(record, ensure_ascii=False))


def stamp(start, seconds):
    return (start + datetime.timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


if __name__ == "__main__":
    main()
