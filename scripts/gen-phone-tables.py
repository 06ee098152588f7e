#!/usr/bin/env python3
"""Generates Sparrow's phone-number tables from libphonenumber's metadata.

The metadata comes from the PyPI package `phonenumbers` (pinned below). For every region and
non-geographic entity the number-type patterns are compiled into one minimal DFA over the digits
0-9 whose accepting states carry a bit mask of the matching descriptions; the prefix patterns
(international prefix, national prefix for parsing, leading digits) become priority DFAs that
reproduce Python's leftmost-first backtracking semantics, including the capture groups used by
national prefix transform rules. Everything is packed into one base64 literal.

Usage (from the repository root):
    pip install phonenumbers==9.0.43
    python3 scripts/gen-phone-tables.py

Writes:
    Sources/SparrowCore/Phone/PhoneTables+Generated.swift
    Tests/SparrowCoreTests/Fixtures/phone-oracle.tsv
"""

import base64
import os
import random
import re
import sys
import unicodedata

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumberFormat, PhoneNumberType
from phonenumbers import phonenumberutil as pnu
from phonenumbers.data import _AVAILABLE_NONGEO_COUNTRY_CODES, _AVAILABLE_REGION_CODES

PHONENUMBERS_VERSION = "9.0.43"
COMMAND = "python3 scripts/gen-phone-tables.py"
ZONE_TAB = "/usr/share/zoneinfo/zone.tab"
ZONE1970_TAB = "/usr/share/zoneinfo/zone1970.tab"
TZDATA_VERSION_FILE = "/usr/share/zoneinfo/tzdata.zi"
SWIFT_OUT = "Sources/SparrowCore/Phone/PhoneTables+Generated.swift"
ORACLE_OUT = "Tests/SparrowCoreTests/Fixtures/phone-oracle.tsv"
ORACLE_SEED = 20250601

MAX_NSN_LENGTH = 17        # phonenumberutil._MAX_LENGTH_FOR_NSN
LENGTH_RESULT_SLOTS = 21   # _test_number_length results stored for lengths 0...20 (longer = 20)
MAX_EXPANSIONS = 50_000    # guard for the priority-pattern expansion
TRANSFORM_LITERAL_CAPACITY = 16  # PhoneMetadataTables.transformCapacity - PhoneInputScanner.maxDigits

# Description order = bit order of the type DFA labels (bit 0 is the general description).
DESCS = ["general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "voip",
         "personal_number", "pager", "uan", "voicemail"]

# _test_number_length results, numbered as in PhoneLengthCheck.swift.
LENGTH_RESULT_CODES = {
    pnu.ValidationResult.IS_POSSIBLE: 0,
    pnu.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: 1,
    pnu.ValidationResult.TOO_SHORT: 2,
    pnu.ValidationResult.TOO_LONG: 3,
    pnu.ValidationResult.INVALID_LENGTH: 4,
}

TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed-line", PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed-line-or-mobile", PhoneNumberType.TOLL_FREE: "toll-free",
    PhoneNumberType.PREMIUM_RATE: "premium-rate", PhoneNumberType.SHARED_COST: "shared-cost",
    PhoneNumberType.VOIP: "voip", PhoneNumberType.PERSONAL_NUMBER: "personal-number",
    PhoneNumberType.PAGER: "pager", PhoneNumberType.UAN: "uan", PhoneNumberType.VOICEMAIL: "voicemail",
    PhoneNumberType.UNKNOWN: "unknown",
}


def fail(message):
    sys.exit("gen-phone-tables: " + message)


# ---------------------------------------------------------------------------------------------
# Regex subset: literals 0-9, \d, [...] with digits/ranges/\d, (...), (?:...), |, ?, *, +,
# {n}, {n,}, {n,m}, and $ (end of input). Anything else fails loudly.
# AST: ("set", frozenset) | ("cat", [n]) | ("alt", [n]) | ("rep", n, lo, hi|None)
#      | ("group", n, index|None) | ("end",)

ALL_DIGITS = frozenset(range(10))
QUANTIFIER = re.compile(r"\{(\d+)(?:(,)(\d*))?\}")


class RegexParser:
    def __init__(self, pattern):
        self.pattern = pattern
        self.pos = 0
        self.groups = 0

    def fail(self, message):
        raise ValueError("unsupported regex (%s) at %d in %r" % (message, self.pos, self.pattern))

    def peek(self):
        return self.pattern[self.pos] if self.pos < len(self.pattern) else None

    def parse(self):
        node = self.alternation()
        if self.pos != len(self.pattern):
            self.fail("unbalanced ')'")
        return node

    def alternation(self):
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.concatenation())
        return branches[0] if len(branches) == 1 else ("alt", branches)

    def concatenation(self):
        items = []
        while self.peek() not in (None, "|", ")"):
            items.append(self.repetition())
        return ("cat", items)

    def repetition(self):
        node = self.atom()
        char = self.peek()
        if char == "?":
            low, high = 0, 1
            self.pos += 1
        elif char == "*":
            low, high = 0, None
            self.pos += 1
        elif char == "+":
            low, high = 1, None
            self.pos += 1
        elif char == "{":
            match = QUANTIFIER.match(self.pattern, self.pos)
            if not match:
                self.fail("malformed quantifier")
            low = int(match.group(1))
            high = low if match.group(2) is None else (int(match.group(3)) if match.group(3) else None)
            self.pos = match.end()
        else:
            return node
        if self.peek() in ("?", "*", "+", "{"):
            self.fail("lazy, possessive or stacked quantifier")
        if node[0] == "end":
            self.fail("quantified anchor")
        return ("rep", node, low, high)

    def atom(self):
        char = self.peek()
        if char == "(":
            if self.pattern.startswith("(?:", self.pos):
                self.pos += 3
                index = None
            elif self.pattern.startswith("(?", self.pos):
                self.fail("group extension")
            else:
                self.pos += 1
                self.groups += 1
                index = self.groups
            inner = self.alternation()
            if self.peek() != ")":
                self.fail("missing ')'")
            self.pos += 1
            return ("group", inner, index)
        if char == "[":
            return self.char_class()
        if char == "\\":
            if self.pattern.startswith("\\d", self.pos):
                self.pos += 2
                return ("set", ALL_DIGITS)
            self.fail("escape")
        if char is not None and char in "0123456789":
            self.pos += 1
            return ("set", frozenset([int(char)]))
        if char == "$":
            self.pos += 1
            return ("end",)
        self.fail("character %r" % char)

    def char_class(self):
        self.pos += 1
        if self.peek() == "^":
            self.fail("negated class")
        digits = set()
        while self.peek() != "]":
            if self.pattern.startswith("\\d", self.pos):
                digits |= ALL_DIGITS
                self.pos += 2
                continue
            char = self.peek()
            if char is None or char not in "0123456789":
                self.fail("class member %r" % char)
            self.pos += 1
            if self.peek() == "-" and self.pos + 1 < len(self.pattern) and self.pattern[self.pos + 1] != "]":
                high = self.pattern[self.pos + 1]
                if high not in "0123456789" or high < char:
                    self.fail("class range")
                digits |= set(range(int(char), int(high) + 1))
                self.pos += 2
            else:
                digits.add(int(char))
        self.pos += 1
        if not digits:
            self.fail("empty class")
        return ("set", frozenset(digits))


def parse_regex(pattern):
    parser = RegexParser(pattern)
    return parser.parse(), parser.groups


# ---------------------------------------------------------------------------------------------
# Whole-string patterns: Thompson NFA -> subset construction (product of all descriptions of an
# entity, labels = bit mask of the descriptions whose pattern fully matches) -> minimisation.

class NFA:
    def __init__(self):
        self.eps = []
        self.edges = []

    def state(self):
        self.eps.append([])
        self.edges.append([])
        return len(self.eps) - 1

    def build(self, node):
        kind = node[0]
        if kind == "set":
            start, end = self.state(), self.state()
            self.edges[start].append((node[1], end))
            return start, end
        if kind == "cat":
            start = end = self.state()
            for item in node[1]:
                item_start, item_end = self.build(item)
                self.eps[end].append(item_start)
                end = item_end
            return start, end
        if kind == "alt":
            start, end = self.state(), self.state()
            for branch in node[1]:
                branch_start, branch_end = self.build(branch)
                self.eps[start].append(branch_start)
                self.eps[branch_end].append(end)
            return start, end
        if kind == "group":
            return self.build(node[1])
        if kind == "rep":
            _, inner, low, high = node
            start = current = self.state()
            for _ in range(low):
                inner_start, inner_end = self.build(inner)
                self.eps[current].append(inner_start)
                current = inner_end
            if high is None:
                inner_start, inner_end = self.build(inner)
                self.eps[current].append(inner_start)
                self.eps[inner_end].append(current)
                return start, current
            end = self.state()
            for _ in range(high - low):
                inner_start, inner_end = self.build(inner)
                self.eps[current].extend([inner_start, end])
                current = inner_end
            self.eps[current].append(end)
            return start, end
        raise ValueError("'$' is not supported in whole-number patterns")


def closure(nfa, states):
    seen = set(states)
    stack = list(states)
    while stack:
        for target in nfa.eps[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return frozenset(seen)


def type_dfa(patterns):
    """patterns: list of (bit, regex). Returns (transitions, labels) of a minimal DFA, state 0 = start,
    -1 = dead."""
    nfa = NFA()
    start = nfa.state()
    finals = {}
    for bit, pattern in patterns:
        node, _ = parse_regex(pattern)
        if contains_end_anchor(node):
            raise ValueError("'$' in whole-number pattern %r" % pattern)
        pattern_start, pattern_end = nfa.build(node)
        nfa.eps[start].append(pattern_start)
        finals[pattern_end] = finals.get(pattern_end, 0) | (1 << bit)
    initial = closure(nfa, [start])
    index = {initial: 0}
    queue = [initial]
    transitions, labels = [], []
    while len(transitions) < len(queue):
        current = queue[len(transitions)]
        label = 0
        for state in current:
            label |= finals.get(state, 0)
        row = []
        for digit in range(10):
            moved = [target for state in current for (digits, target) in nfa.edges[state] if digit in digits]
            if not moved:
                row.append(-1)
                continue
            target_set = closure(nfa, moved)
            if target_set not in index:
                index[target_set] = len(queue)
                queue.append(target_set)
            row.append(index[target_set])
        transitions.append(row)
        labels.append(label)
    return minimize(transitions, labels)


def contains_end_anchor(node):
    kind = node[0]
    if kind == "end":
        return True
    if kind in ("cat", "alt"):
        return any(contains_end_anchor(child) for child in node[1])
    if kind in ("group", "rep"):
        return contains_end_anchor(node[1])
    return False


def minimize(transitions, labels, live_label=lambda label: label != 0):
    """Moore partition refinement. States that cannot reach a live label become dead (-1).
    The result is renumbered in breadth-first order from state 0."""
    count = len(transitions)
    # Drop states from which no live state is reachable.
    reverse = [[] for _ in range(count)]
    for source, row in enumerate(transitions):
        for target in row:
            if target >= 0:
                reverse[target].append(source)
    useful = set(state for state in range(count) if live_label(labels[state]))
    stack = list(useful)
    while stack:
        for source in reverse[stack.pop()]:
            if source not in useful:
                useful.add(source)
                stack.append(source)
    if 0 not in useful:
        return [], []
    # Refine classes until stable.
    classes = {}
    block = [classes.setdefault(labels[state], len(classes)) if state in useful else -1 for state in range(count)]
    block_count = len(classes)
    while True:
        signatures = {}
        refined = []
        for state in range(count):
            if state not in useful:
                refined.append(-1)
                continue
            signature = (block[state],) + tuple(block[t] if t >= 0 else -1 for t in transitions[state])
            refined.append(signatures.setdefault(signature, len(signatures)))
        block = refined
        if len(signatures) == block_count:
            break
        block_count = len(signatures)
    representative = {}
    for state in range(count):
        if block[state] >= 0:
            representative.setdefault(block[state], state)
    # Breadth-first renumbering.
    order = {block[0]: 0}
    queue = [block[0]]
    new_transitions, new_labels = [], []
    while len(new_transitions) < len(queue):
        old = representative[queue[len(new_transitions)]]
        row = []
        for target in transitions[old]:
            target_block = block[target] if target >= 0 else -1
            if target_block < 0:
                row.append(-1)
                continue
            if target_block not in order:
                order[target_block] = len(queue)
                queue.append(target_block)
            row.append(order[target_block])
        new_transitions.append(row)
        new_labels.append(labels[old])
    return new_transitions, new_labels


# ---------------------------------------------------------------------------------------------
# Prefix patterns (re.match semantics): the regex is expanded into the ordered list of paths a
# backtracking engine tries (alternatives left to right, greedy quantifiers longest first). Each
# path is a fixed sequence of digit classes, so capture spans are fixed positions. The first path
# (in that order) matching a prefix of the input is Python's match; a priority DFA finds it.

def expand(node):
    kind = node[0]
    if kind == "set":
        return [(("c", node[1]),)]
    if kind == "end":
        return [(("e",),)]
    if kind == "cat":
        paths = [()]
        for item in node[1]:
            paths = [left + right for left in paths for right in expand(item)]
            if len(paths) > MAX_EXPANSIONS:
                raise ValueError("pattern expands to too many paths")
        return paths
    if kind == "alt":
        return [path for branch in node[1] for path in expand(branch)]
    if kind == "group":
        inner = expand(node[1])
        if node[2] is None:
            return inner
        return [(("o", node[2]),) + path + (("x", node[2]),) for path in inner]
    if kind == "rep":
        _, inner_node, low, high = node
        if high is None:
            raise ValueError("unbounded repetition in a prefix pattern")
        inner = expand(inner_node)
        if any(not any(item[0] == "c" for item in path) for path in inner):
            raise ValueError("repetition of a possibly empty expression in a prefix pattern")

        def repeat(low, high):
            paths = []
            if high > 0:
                for first in inner:
                    for rest in repeat(max(low - 1, 0), high - 1):
                        paths.append(first + rest)
            if low == 0:
                paths.append(())
            return paths

        return repeat(low, high)
    raise AssertionError(kind)


class PrefixPath:
    """One expanded path: its digit classes, whether it must end at the end of input, and capture spans."""

    def __init__(self, items):
        self.classes = []
        self.anchored = False
        self.spans = {}
        self.impossible = False
        for item in items:
            if item[0] == "c":
                if self.anchored:
                    self.impossible = True
                self.classes.append(item[1])
            elif item[0] == "e":
                self.anchored = True
            elif item[0] == "o":
                self.spans[item[1]] = (len(self.classes), None)
            else:
                self.spans[item[1]] = (self.spans[item[1]][0], len(self.classes))


def priority_dfa(paths, action_of_path):
    """paths: PrefixPath list in priority order; action_of_path: path index -> action id (>= 0).
    Labels: bit 15 = terminal (stop reading), low bits = action id + 1 (0 = no match)."""
    terminal_bit = 0x8000

    def settle(alive, best):
        for path_index, position in alive:
            path = paths[path_index]
            if position == len(path.classes) and not path.anchored and (best is None or path_index < best):
                best = path_index
        kept = tuple((i, p) for (i, p) in alive
                     if (best is None or i < best) and not (p == len(paths[i].classes) and not paths[i].anchored))
        return kept, best

    def label(alive, best):
        if not alive:
            return terminal_bit | (0 if best is None else action_of_path[best] + 1)
        candidates = [i for (i, p) in alive if paths[i].anchored and p == len(paths[i].classes)]
        if best is not None:
            candidates.append(best)
        return action_of_path[min(candidates)] + 1 if candidates else 0

    initial = settle(tuple((i, 0) for i in range(len(paths)) if not paths[i].impossible), None)
    index = {initial: 0}
    queue = [initial]
    transitions, labels = [], []
    while len(transitions) < len(queue):
        alive, best = queue[len(transitions)]
        labels.append(label(alive, best))
        row = []
        for digit in range(10):
            if not alive:
                row.append(-1)
                continue
            moved = tuple((i, p + 1) for (i, p) in alive
                          if p < len(paths[i].classes) and digit in paths[i].classes[p])
            target = settle(moved, best)
            if not target[0] and target[1] is None:
                row.append(-1)
                continue
            if target not in index:
                index[target] = len(queue)
                queue.append(target)
            row.append(index[target])
        transitions.append(row)
    return minimize(transitions, labels, live_label=lambda value: value & 0x7FFF != 0)


# Actions of prefix DFAs: ("strip", length) or ("transform", literal, group_start, group_end, length).
class ActionTable:
    def __init__(self):
        self.actions = []
        self.index = {}

    def add(self, action):
        if action not in self.index:
            self.index[action] = len(self.actions)
            self.actions.append(action)
        return self.index[action]


def compile_prefix(pattern, actions, transform_rule=None):
    """Compiles a prefix pattern. Without a transform rule every path's action strips its match;
    with one, paths in which the last capture group took part replace the match with
    literal + group text, as re.sub(pattern, rule, number, count=1) does."""
    node, group_count = parse_regex(pattern)
    paths = [PrefixPath(items) for items in expand(node)]
    literal, group = None, None
    if transform_rule:
        match = re.fullmatch(r"(\d*)\\(\d)", transform_rule)
        if not match:
            fail("unsupported national prefix transform rule %r" % transform_rule)
        literal, group = match.group(1), int(match.group(2))
        if len(literal) > TRANSFORM_LITERAL_CAPACITY:
            fail("transform rule %r: literal longer than %d digits" % (transform_rule, TRANSFORM_LITERAL_CAPACITY))
    action_of_path = []
    for path in paths:
        length = len(path.classes)
        if transform_rule and group_count in path.spans:
            start, end = path.spans.get(group, (0, 0))
            action_of_path.append(actions.add(("transform", literal, start, end, length)))
        else:
            action_of_path.append(actions.add(("strip", length)))
    return priority_dfa(paths, action_of_path)


# ---------------------------------------------------------------------------------------------
# Metadata collection.

def load_entities():
    if phonenumbers.__version__ != PHONENUMBERS_VERSION:
        fail("expected phonenumbers %s, found %s (pip install phonenumbers==%s)"
             % (PHONENUMBERS_VERSION, phonenumbers.__version__, PHONENUMBERS_VERSION))
    entities = []
    for region in sorted(_AVAILABLE_REGION_CODES):
        entities.append((region, PhoneMetadata.metadata_for_region(region)))
    for code in sorted(_AVAILABLE_NONGEO_COUNTRY_CODES):
        entities.append(("001", PhoneMetadata.metadata_for_nongeo_region(code)))
    return entities


def length_masks(metadata):
    for name in DESCS:
        desc = getattr(metadata, name)
        if desc is not None and (not desc.possible_length or max(desc.possible_length) > MAX_NSN_LENGTH):
            fail("%s %s: possible lengths %r not within 1...%d" % (metadata.id, name, desc.possible_length,
                                                                  MAX_NSN_LENGTH))
    masks = []
    for length in range(MAX_NSN_LENGTH + 1):
        mask = 0
        for bit, name in enumerate(DESCS):
            desc = getattr(metadata, name)
            if desc is None or desc.national_number_pattern is None:
                continue
            if len(desc.possible_length) == 0 or length in desc.possible_length:
                mask |= 1 << bit
        masks.append(mask)
    return masks


def length_results(metadata):
    return [LENGTH_RESULT_CODES[pnu._test_number_length("5" * length, metadata)]
            for length in range(LENGTH_RESULT_SLOTS)]


def single_time_zones():
    """Region -> IANA zone for countries with exactly one zone in zone.tab, else in zone1970.tab."""
    def zones_by_country(path):
        zones = {}
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("#") or not line.strip():
                    continue
                fields = line.rstrip("\n").split("\t")
                for country in fields[0].split(","):
                    zones.setdefault(country, []).append(fields[2])
        return zones

    primary, fallback = zones_by_country(ZONE_TAB), zones_by_country(ZONE1970_TAB)
    result = {}
    for country in sorted(set(primary) | set(fallback)):
        for table in (primary, fallback):
            if len(table.get(country, [])) == 1:
                result[country] = table[country][0]
                break
    return result


def tzdata_version():
    with open(TZDATA_VERSION_FILE, encoding="utf-8") as handle:
        first = handle.readline().strip()
    match = re.match(r"# version (\S+)", first)
    return match.group(1) if match else "unknown"


def decimal_digit_zeros():
    """Code points of the zero of every block of Unicode decimal digits (Python's \\d)."""
    zeros = []
    for code_point in range(0x110000):
        char = chr(code_point)
        if unicodedata.category(char) == "Nd" and unicodedata.digit(char) == 0:
            for value in range(10):
                digit = chr(code_point + value)
                if unicodedata.category(digit) != "Nd" or unicodedata.digit(digit) != value:
                    fail("decimal digits at U+%04X are not a contiguous block" % code_point)
            zeros.append(code_point)
    count = sum(1 for cp in range(0x110000) if unicodedata.category(chr(cp)) == "Nd")
    if count != 10 * len(zeros):
        fail("unexpected decimal digit layout")
    return zeros


# ---------------------------------------------------------------------------------------------
# Encoding: unsigned LEB128 varints, then base64.

class Stream:
    def __init__(self):
        self.data = bytearray()

    def varint(self, value):
        if value < 0:
            raise ValueError(value)
        while True:
            byte = value & 0x7F
            value >>= 7
            if value:
                self.data.append(byte | 0x80)
            else:
                self.data.append(byte)
                return

    def text(self, value):
        encoded = value.encode("ascii")
        self.varint(len(encoded))
        self.data.extend(encoded)


def encode_dfa(stream, transitions, labels):
    """Per state: label, then the ten targets as runs (run length, local target + 1; 0 = dead)."""
    stream.varint(len(transitions))
    for row, label in zip(transitions, labels):
        stream.varint(label)
        runs = []
        for target in row:
            if runs and runs[-1][1] == target:
                runs[-1][0] += 1
            else:
                runs.append([1, target])
        stream.varint(len(runs))
        for length, target in runs:
            stream.varint(length)
            stream.varint(target + 1)


# ---------------------------------------------------------------------------------------------
# Self-check: every compiled automaton must agree with Python's re on sampled inputs.

def run_type_dfa(dfa, digits):
    transitions, labels = dfa
    state = 0
    for digit in digits:
        state = transitions[state][int(digit)]
        if state < 0:
            return 0
    return labels[state]


def run_prefix_dfa(dfa, digits):
    transitions, labels = dfa
    if not transitions:
        return None
    state = 0
    if labels[0] & 0x8000:
        return labels[0] & 0x7FFF or None
    for digit in digits:
        state = transitions[state][int(digit)]
        if state < 0:
            return None
        if labels[state] & 0x8000:
            return labels[state] & 0x7FFF or None
    return labels[state] & 0x7FFF or None


def apply_action(action, digits):
    if action[0] == "strip":
        return digits[action[1]:]
    _, literal, start, end, length = action
    return literal + digits[start:end] + digits[length:]


def samples(metadata, rng):
    seeds = [getattr(metadata, name).example_number for name in DESCS
             if getattr(metadata, name) is not None and getattr(metadata, name).example_number]
    for example in list(seeds):
        number = phonenumbers.parse("+%d%s" % (metadata.country_code, example), None)
        seeds.append(re.sub(r"\D", "", phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)))
    prefixes = ["", "0", "00", "1", "8", str(metadata.country_code), metadata.national_prefix or ""]
    out = []
    for _ in range(400):
        base = rng.choice(seeds) if seeds and rng.random() < 0.7 else ""
        cut = rng.randrange(len(base) + 1)
        tail = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 14)))
        out.append(rng.choice(prefixes) + (base[:cut] + tail if rng.random() < 0.5 else base))
    return out + EXTRA_SAMPLES


# Inputs that exercise carrier codes and transform rules (BR, AR, JP, CN, CO, KR, AU, LI, ...).
EXTRA_SAMPLES = ["02111912345678", "0211191234567", "902111912345678", "9021119123456", "0111523456789",
                 "01115234567890", "0343155551212", "00037123456789", "003768012345678", "0003712345", "12593",
                 "125930101234567", "179511380013800", "04561234567", "0812345678", "0851234123456789", "18311234",
                 "10011234567", "4641234", "2684641234", "180020123456", "0549123456"]


def verify_entity(where, metadata, dfas, type_index, idd_index, npp_index, leading_index, actions):
    rng = random.Random(where)
    dfa_at = lambda index: dfas[index - 1] if index else ([], [])
    compiled = [(bit, re.compile(getattr(metadata, name).national_number_pattern)) for bit, name in enumerate(DESCS)
                if getattr(metadata, name) is not None and getattr(metadata, name).national_number_pattern]
    prefix_checks = [(idd_index, metadata.international_prefix, None),
                     (npp_index, metadata.national_prefix_for_parsing, metadata.national_prefix_transform_rule),
                     (leading_index, metadata.leading_digits, None)]
    for digits in samples(metadata, rng):
        expected = sum(1 << bit for bit, regex in compiled if regex.fullmatch(digits))
        if run_type_dfa(dfa_at(type_index), digits) != expected:
            fail("%s: type DFA disagrees with re on %s" % (where, digits))
        for index, pattern, rule in prefix_checks:
            if not pattern:
                continue
            regex = re.compile(pattern)
            match = regex.match(digits)
            found = run_prefix_dfa(dfa_at(index), digits)
            if (match is None) != (found is None):
                fail("%s: prefix DFA for %r disagrees with re on %s" % (where, pattern, digits))
            if match is None:
                continue
            action = actions.actions[found - 1]
            if rule and match.groups()[-1] is not None:
                expected_result = regex.sub(rule, digits, count=1)
            else:
                expected_result = digits[match.end():]
            if apply_action(action, digits) != expected_result:
                fail("%s: prefix action for %r disagrees with re on %s" % (where, pattern, digits))


def build_tables():
    entities = load_entities()
    actions = ActionTable()
    dfas = []            # (transitions, labels); index 0 is reserved for "never matches"
    stats = {"type_states": 0, "prefix_states": 0}

    def add_dfa(dfa, kind):
        transitions, labels = dfa
        if not transitions:
            return 0
        dfas.append(dfa)
        stats[kind] += len(transitions)
        return len(dfas)

    records = []
    for region, metadata in entities:
        where = "%s/%d" % (region, metadata.country_code)
        try:
            patterns = [(bit, getattr(metadata, name).national_number_pattern) for bit, name in enumerate(DESCS)
                        if getattr(metadata, name) is not None
                        and getattr(metadata, name).national_number_pattern is not None]
            type_index = add_dfa(type_dfa(patterns), "type_states")
            idd_index = 0
            if metadata.international_prefix:
                idd_index = add_dfa(compile_prefix(metadata.international_prefix, actions), "prefix_states")
            npp_index = 0
            if metadata.national_prefix_for_parsing:
                npp_index = add_dfa(compile_prefix(metadata.national_prefix_for_parsing, actions,
                                                   metadata.national_prefix_transform_rule), "prefix_states")
            leading_index = 0
            if metadata.leading_digits == "":
                raise ValueError("empty leading digits")
            if metadata.leading_digits:
                leading_index = add_dfa(compile_prefix(metadata.leading_digits, actions), "prefix_states")
        except ValueError as error:
            fail("%s: %s" % (where, error))
        verify_entity(where, metadata, dfas, type_index, idd_index, npp_index, leading_index, actions)
        records.append({
            "region": region, "metadata": metadata, "type": type_index, "idd": idd_index, "npp": npp_index,
            "leading": leading_index,
            "same_mobile_fixed": bool(metadata.same_mobile_and_fixed_line_pattern),
            "length_masks": length_masks(metadata), "length_results": length_results(metadata),
        })

    entity_index = {}
    for index, record in enumerate(records):
        key = record["region"] if record["region"] != "001" else record["metadata"].country_code
        entity_index[key] = index
    country_codes = []
    for code in sorted(pnu.COUNTRY_CODE_TO_REGION_CODE):
        regions = pnu.COUNTRY_CODE_TO_REGION_CODE[code]
        members = [entity_index[code] if region == "001" else entity_index[region] for region in regions]
        main = records[members[0]]["metadata"]
        if len(members) > 1 and not main.main_country_for_code:
            fail("first region for +%d is not its main country" % code)
        country_codes.append((code, members))

    zones = single_time_zones()
    zone_names = sorted(set(zones[r["region"]] for r in records if r["region"] in zones))
    zone_index = {name: i for i, name in enumerate(zone_names)}

    stream = Stream()
    stream.varint(len(dfas))
    for transitions, labels in dfas:
        encode_dfa(stream, transitions, labels)
    stream.varint(len(actions.actions))
    for action in actions.actions:
        if action[0] == "strip":
            stream.varint(0)
            stream.varint(action[1])
        else:
            _, literal, start, end, length = action
            stream.varint(1)
            stream.varint(length)
            stream.varint(start)
            stream.varint(end)
            stream.text(literal)
    stream.varint(len(zone_names))
    for name in zone_names:
        stream.text(name)
    stream.varint(len(records))
    for record in records:
        stream.text(record["region"])
        stream.varint(record["metadata"].country_code)
        for key in ("type", "idd", "npp", "leading"):
            stream.varint(record[key])
        stream.varint(1 if record["same_mobile_fixed"] else 0)
        zone = zones.get(record["region"])
        stream.varint(zone_index[zone] + 1 if zone else 0)
        for mask in record["length_masks"]:
            stream.varint(mask)
        for result in record["length_results"]:
            stream.varint(result)
    stream.varint(len(country_codes))
    for code, members in country_codes:
        stream.varint(code)
        stream.varint(len(members))
        for member in members:
            stream.varint(member)
    zeros = decimal_digit_zeros()
    stream.varint(len(zeros))
    for zero in zeros:
        stream.varint(zero)

    stats["dfas"] = len(dfas)
    stats["actions"] = len(actions.actions)
    stats["bytes"] = len(stream.data)
    stats["zones"] = len(zones)
    return bytes(stream.data), stats


def write_swift(path, data, stats):
    encoded = base64.b64encode(data).decode("ascii")
    lines = [encoded[i:i + 116] for i in range(0, len(encoded), 116)]
    header = [
        "// Generated file — do not edit.",
        "// Regenerate with: %s" % COMMAND,
        "// Source: libphonenumber metadata from the PyPI package phonenumbers %s;" % PHONENUMBERS_VERSION,
        "// single time zones from tzdata %s (zone.tab, then zone1970.tab);" % tzdata_version(),
        "// decimal digits from Unicode %s (Python %d.%d)." % (unicodedata.unidata_version, *sys.version_info[:2]),
        "// %d DFAs (%d number-type states, %d prefix states), %d prefix actions, %d bytes before base64."
        % (stats["dfas"], stats["type_states"], stats["prefix_states"], stats["actions"], stats["bytes"]),
        "",
        "extension PhoneMetadataTables {",
        "    /// Base64 of the table stream read by `PhoneMetadataTables.init(decoding:)`.",
        "    static let encoded: StaticString = \"\"\"",
    ]
    body = ["        " + line for line in lines]
    footer = ["        \"\"\"", "}", ""]
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("\n".join(header + body + footer))


# ---------------------------------------------------------------------------------------------
# Oracle: inputs built from every entity's example numbers, answered by python-phonenumbers.

SEPARATORS = [" ", "-", ".", "/", "\u00a0", "\u3000", "\u2010", "\u2212", "\uff0d"]
CALLING_REGIONS = ["US", "CN", "DE", "GB", "JP", "AU", "RU", "BR", "KR", "FR", "IN", "SG", "AR", "IT"]
ACCEPTED_SEPARATORS = set(" -./()[]\u00a0\u00ad\u200b\u2060\u3000\u2010\u2011\u2012\u2013\u2014\u2015"
                          "\u2212\u30fc\uff0d\uff0e\uff0f\uff08\uff09\uff3b\uff3d\u2053\u223c")


def full_width(text):
    return "".join(chr(ord(c) - ord("0") + 0xFF10) if "0" <= c <= "9" else ("\uff0b" if c == "+" else c)
                   for c in text)


def reseparate(text, rng):
    """Replaces the separators of a formatted number by random ones, sometimes adding parentheses."""
    groups = re.findall(r"\+?\d+", text)
    if len(groups) < 2:
        return text
    out = groups[0]
    for index, group in enumerate(groups[1:]):
        if index == 0 and rng.random() < 0.3:
            out += " (" + group + ")"
        else:
            out += rng.choice(SEPARATORS) + group
    return out


def drop_digit(text, rng):
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    position = rng.choice(positions[-8:])
    return text[:position] + text[position + 1:]


def add_digit(text, rng):
    positions = [i for i, c in enumerate(text) if c.isdigit()]
    position = rng.choice(positions[-8:])
    return text[:position] + str(rng.randrange(10)) + text[position:]


def rejects_characters(text):
    """PhoneNumberParser's stricter character policy: from the first digit or plus sign to the last letter, digit
    or '#' (libphonenumber's _extract_possible_number), only digits, punctuation, tildes and a leading run of plus
    signs are accepted; libphonenumber would also take letters, '*' and extension labels."""
    start = re.search(r"[+\uff0b\d]", text)
    if not start:
        return False
    body = re.sub(r"(?:_|[^#\w])+$", "", text[start.start():])
    body = re.sub(r"^[+\uff0b]+", "", body)
    return any(not (re.fullmatch(r"\d", c) or c in ACCEPTED_SEPARATORS or c in "~\uff5e") for c in body)


def oracle_answer(text, region):
    """python-phonenumbers' verdict in the vocabulary of PhoneNumberParser, which rejects (as invalidCharacters)
    what `rejects_characters` names and the extensions libphonenumber strips after its viability and region checks."""
    if len(text) > pnu._MAX_INPUT_STRING_LENGTH:
        return ("error", "tooLong")
    if not re.search(r"\d", text):
        return ("error", "empty")
    if rejects_characters(text):
        return ("error", "invalidCharacters")
    stripped = text.lstrip("".join(ACCEPTED_SEPARATORS))
    candidate = pnu._build_national_number_for_parsing(text)
    has_extension = pnu._is_viable_phone_number(candidate) and pnu._maybe_strip_extension(candidate)[0] != ""
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as error:
        kind = error.error_type
        if kind == NumberParseException.NOT_A_NUMBER:
            return ("error", "tooShort")
        if kind == NumberParseException.INVALID_COUNTRY_CODE:
            has_plus = stripped[:1] in ("+", "\uff0b")
            if (region is None or region not in pnu.SUPPORTED_REGIONS) and not has_plus:
                return ("error", "missingRegion")
            if has_extension:
                return ("error", "invalidCharacters")
            return ("error", "unknownCountryCode")
        if has_extension:
            return ("error", "invalidCharacters")
        if kind in (NumberParseException.TOO_SHORT_AFTER_IDD, NumberParseException.TOO_SHORT_NSN):
            return ("error", "tooShort")
        if kind == NumberParseException.TOO_LONG:
            return ("error", "tooLong")
        raise
    if has_extension:
        return ("error", "invalidCharacters")
    if phonenumbers.is_valid_number(number):
        return ("valid", phonenumbers.format_number(number, PhoneNumberFormat.E164),
                phonenumbers.region_code_for_number(number), TYPE_NAMES[phonenumbers.number_type(number)])
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == pnu.ValidationResult.TOO_SHORT:
        return ("error", "tooShort")
    if reason == pnu.ValidationResult.TOO_LONG:
        return ("error", "tooLong")
    return ("error", "invalidForRegion:" + phonenumbers.region_code_for_country_code(number.country_code))


EDGE_CASES = [
    ("", "CN"), ("   ", "CN"), ("+", None), ("-", "US"), ("1", "CN"), ("12", "CN"), ("1-2", "CN"), ("+12", None),
    ("123", "CN"), ("+86", None), ("+86 1", None), ("0086", "CN"), ("00 86 138 0013 8000", "CN"),
    ("+0086 138 0013 8000", "CN"), ("+ 86 (138) 0013-8000", None), ("++8613800138000", None),
    ("8613800138000", "CN"), ("86 138 0013 8000", "CN"), ("13800138000", None), ("13800138000", "ZZ"),
    ("+999 123 456 789", "CN"), ("+800 1234 5678", None), ("+870 773 111 632", "US"),
    ("011 44 20 7946 0958", "US"), ("0011 44 20 7946 0958", "AU"), ("1790000 44 20 7946 0958", "CN"),
    ("(650) 253-0000", "US"), ("1 (650) 253-0000", "US"), ("+1 650 253 0000", "CA"), ("650 253 0000", "CA"),
    ("+1 268 464 1234", None), ("464 1234", "AG"), ("+1 (340) 642-1234", None), ("+39 06 698 12345", None),
    ("+39 06698 12345", None), ("06 6982 1234", "IT"), ("+44 1481 256789", None), ("01481 256789", "GG"),
    ("256789", "GG"), ("+44 7624 123456", None), ("011 15 2345-6789", "AR"), ("+54 9 11 2345 6789", None),
    ("0 11 15 2345 6789", "AR"), ("+55 11 91234 5678", None), ("0 21 11 91234 5678", "BR"),
    ("(011) 91234-5678", "BR"), ("+7 701 123 4567", None), ("8 701 123 4567", "KZ"), ("8 (495) 123-45-67", "RU"),
    ("+358 18 12345", None), ("12345", "AX"), ("+61 8 9164 1234", None), ("+262 269 61 1234", None),
    ("0000", "JP"), ("00037 12345678", "JP"), ("0037 1234 5678", "JP"), ("+81 3 1234 5678", "JP"),
    ("12345678901234567890123", "CN"), ("+86 1380013800012345678", None),
    ("\uff0b\uff18\uff16\u3000\uff11\uff13\uff18\uff10\uff10\uff11\uff13\uff18\uff10\uff10\uff10", None),
    ("\u0661\u0663\u0668\u0660\u0660\u0661\u0663\u0668\u0660\u0660\u0660", "CN"),
    ("\u0968\u0966 \u096d\u096f\u096a\u096c \u0966\u096f\u096b\u096e", "GB"),
    ("+86\u00a0138\u00a00013\u00a08000", None), ("+86-138-0013-8000.", None), ("(+86) 138/0013/8000", None),
    ("[+86] 138 0013 8000", None), ("+86 (0) 138 0013 8000", None), ("0 138 0013 8000", "CN"),
    ("19212345678", "CN"), ("16612345678", "CN"), ("19912345678", "CN"), ("+86 199 1234 5678", "US"),
    ("010 1234 5678", "CN"), ("12593 010 1234 5678", "CN"), ("17951 13800138000", "CN"),
]


def build_oracle(path):
    rng = random.Random(ORACLE_SEED)
    rows = []

    def add(text, region):
        rows.append((text, region, oracle_answer(text, region)))

    for text, region in EDGE_CASES:
        add(text, region)
    for region, metadata in load_entities():
        geographic = region != "001"
        for name in DESCS[1:]:
            desc = getattr(metadata, name)
            if desc is None or not desc.example_number:
                continue
            number = phonenumbers.parse("+%d%s" % (metadata.country_code, desc.example_number), None)
            e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
            national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
            home = region if geographic else rng.choice(CALLING_REGIONS)
            caller = rng.choice([r for r in CALLING_REGIONS if r != region])
            forms = [
                (e164, None),
                (reseparate(international, rng), rng.choice([None, home, caller])),
                (phonenumbers.format_out_of_country_calling_number(number, caller), caller),
                ("%d %s" % (metadata.country_code, desc.example_number), home),
            ]
            if geographic:
                forms.append((national, region))
                forms.append((reseparate(national, rng), region))
                forms.append((desc.example_number, region))
                forms.append((national, caller))
            if metadata.national_prefix and geographic:
                forms.append((metadata.national_prefix + desc.example_number, region))
            chosen = [forms[0]] + rng.sample(forms[1:], 2)
            variants = []
            for written, default_region in forms:
                variants.append((full_width(written), default_region))
                variants.append((drop_digit(written, rng), default_region))
                variants.append((add_digit(written, rng), default_region))
            for text, default_region in chosen + rng.sample(variants, 2):
                add(text, default_region)
    seen = set()
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write("# Generated by %s from phonenumbers %s; columns: input, default region (- = none), "
                     "outcome (valid or error), e164 or error name, region, type\n"
                     % (COMMAND, PHONENUMBERS_VERSION))
        for text, region, answer in rows:
            key = (text, region)
            if key in seen:
                continue
            seen.add(key)
            if any(unicodedata.category(c)[0] in "CM" for c in text):
                fail("oracle input %r contains a control character or combining mark" % text)
            fields = [text, region or "-"] + list(answer)
            while len(fields) < 6:
                fields.append("")
            handle.write("\t".join(fields) + "\n")
    return len(seen)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    data, stats = build_tables()
    write_swift(os.path.join(root, SWIFT_OUT), data, stats)
    rows = build_oracle(os.path.join(root, ORACLE_OUT))
    print("wrote %s (%d bytes of tables, %d DFAs, %d type states, %d prefix states, %d actions, %d zones)"
          % (SWIFT_OUT, stats["bytes"], stats["dfas"], stats["type_states"], stats["prefix_states"],
             stats["actions"], stats["zones"]))
    print("wrote %s (%d rows)" % (ORACLE_OUT, rows))


if __name__ == "__main__":
    main()
