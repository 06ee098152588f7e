#!/usr/bin/env python3
"""Writes a synthetic recipient file for demos and benchmarks: Chinese names, numbers of all four Chinese
carriers (some mistyped the way spreadsheets mistype them), a few recipients abroad with their own time
zones, duplicates, and rows with missing fields.

    scripts/gen-recipients.py ROWS [--seed N] [--format csv|jsonl] > recipients.csv
"""
import argparse
import json
import random
import sys

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国宇浩然子涵欣怡梓轩雨桐一诺思远"
ITEMS = ["羊绒围巾", "真丝睡衣", "保温杯", "蓝牙耳机", "儿童雨靴", "有机红茶", "羽绒服", "手工香皂", "空气炸锅", "瑜伽垫"]
# Carrier prefixes: mobile, unicom, telecom, broadnet, including 16x and 19x.
PREFIXES = ["138", "139", "150", "187", "198", "165", "130", "131", "186", "166", "196", "133", "153", "189",
            "199", "191", "162", "192"]
ABROAD = [("+1", "US", "America/New_York", lambda r: "2025550" + f"{r.randrange(100, 999)}"),
          ("+44", "GB", "Europe/London", lambda r: "7912" + f"{r.randrange(100000, 999999)}"),
          ("+61", "AU", "Australia/Sydney", lambda r: "412345" + f"{r.randrange(100, 999)}"),
          ("+65", "SG", None, lambda r: "8123" + f"{r.randrange(1000, 9999)}")]


def mistype(rng, digits):
    """How a number looks in a real spreadsheet."""
    style = rng.randrange(8)
    if style == 0:
        return f"{digits[:3]} {digits[3:7]} {digits[7:]}"
    if style == 1:
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"
    if style == 2:
        return "+86 " + digits
    if style == 3:
        return "0086" + digits
    if style == 4:
        return "".join(chr(0xFF10 + int(d)) for d in digits)  # full-width digits
    if style == 5:
        return f"({digits[:3]}) {digits[3:]}"
    return digits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rows", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    if args.format == "csv":
        out.write("phone,nickname,item,tz\n")
    recent = []
    for _ in range(args.rows):
        roll = rng.random()
        tz = ""
        if roll < 0.03 and recent:
            phone = rng.choice(recent)  # a duplicate
        elif roll < 0.05:
            phone = "1" + "".join(rng.choice("0123456789") for _ in range(rng.choice([9, 10, 11])))  # bad length
        elif roll < 0.08:
            code, _, zone, local = rng.choice(ABROAD)
            phone = code + " " + local(rng)
            tz = zone or ""
        else:
            digits = rng.choice(PREFIXES) + f"{rng.randrange(10**8):08d}"
            phone = mistype(rng, digits)
            if len(recent) < 1000:
                recent.append(phone)
            elif rng.random() < 0.01:
                recent[rng.randrange(1000)] = phone
        nickname = "" if rng.random() < 0.2 else rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
        item = "" if rng.random() < 0.01 else rng.choice(ITEMS)
        if args.format == "csv":
            fields = [phone, nickname, item, tz]
            out.write(",".join('"' + f.replace('"', '""') + '"' if ("," in f or '"' in f) else f for f in fields) + "\n")
        else:
            row = {"phone": phone, "nickname": nickname or None, "item": item, "tz": tz or None}
            out.write(json.dumps({k: v for k, v in row.items() if v is not None}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
