"""`qunyun bench moderation`: the moderation text engine on real data, three figures.

1. Matching throughput: normalize + Aho-Corasick match per message, on one core, against
   `--words` banned words drawn (seeded) from the sensitive-word lists in the test data, over
   the SMS set and the chat exports; and Python `re` alternation of the same words over the
   same normalized messages, in the same run (on the first `--re-messages` messages: it is
   slow), with the ratio of the two.
2. False positives of the built-in ad rules (built-in ads and contact lists, contact patterns,
   links) on normal chat: the ham part of the SMS set and the chat exports, as rates per rule
   (and their recall on the SMS spam, for scale).
3. The spam classifier's precision and recall on the SMS set (seeded 70/30 split: learn on the
   70, measure on the 30) against a keyword-only baseline built from the ad word list there.

The test data is found as the test suite finds it: `shared/testdata` beside the repository
(override with `--testdata`). No figure is asserted; they are printed.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer

from qunyun.cli.bench import show
from qunyun.cli.common import JsonOption
from qunyun.core.errors import InvalidInput
from qunyun.core.i18n import gettext
from qunyun.features.moderation.classifier import SpamClassifier, evaluate, message_features
from qunyun.features.moderation.matcher import WordMatcher
from qunyun.features.moderation.normalize import Normalized, normalize
from qunyun.features.moderation.patterns import find_contacts, find_links
from qunyun.features.moderation.wordlist import WordEntry, builtin_lists, parse_wordlist_lenient

SEED = 7
LEXICON = ("moderation", "konsheng_sensitive_lexicon")
SMS = ("moderation", "chinese_sms_spam_10k", "sms_spam_zh_10k.tsv")
IRC = ("chat_datasets", "ubuntu_irc_disentanglement")
TELEGRAM = ("telegram", "desktop_exports_tgif")
AD_LIST = "广告类型.txt"
URL_LIST = "非法网址.txt"  # URLs, not words: left out of the banned words
_IRC_LINE = re.compile(r"^\[\d\d:\d\d\] <[^>]+> (.*)$")


def default_testdata() -> Path:
    """`shared/testdata` beside the repository this module runs from."""
    return Path(__file__).resolve().parents[3].parent / "shared" / "testdata"


def register_bench(bench_app: typer.Typer) -> None:
    bench_app.command("moderation")(bench_moderation)


def bench_moderation(
    testdata: Annotated[Path | None, typer.Option(
        help="The shared test data folder (default: shared/testdata beside the repository).",
        envvar="QUNYUN_TESTDATA")] = None,
    words: Annotated[int, typer.Option(help="Banned words to match against.", min=1)] = 10_000,
    rounds: Annotated[int, typer.Option(help="Passes over the messages (best is kept).",
                                        min=1)] = 3,
    re_messages: Annotated[int, typer.Option(
        "--re-messages", help="Messages for the `re` alternation comparison.", min=1)] = 2000,
    as_json: JsonOption = False,
) -> None:
    """Moderation text engine: matching speed, false positives, classifier quality."""
    root = testdata or default_testdata()
    if not (root / SMS[0]).is_dir():
        raise typer.BadParameter(f"no moderation test data under {root}", param_hint="--testdata")
    figures: dict[str, Any] = {}
    sms = read_sms(root.joinpath(*SMS))
    chat = read_chat(root)
    figures.update(measure_matching(root, sms, chat, words=words, rounds=rounds,
                                    re_messages=re_messages))
    figures.update(measure_false_positives(sms, chat))
    figures.update(measure_classifier(root, sms))
    show(gettext("Moderation benchmark"), figures, as_json)


# --- data ----------------------------------------------------------------------------------

def read_sms(path: Path) -> list[tuple[bool, str]]:
    """(spam, text) rows of the labelled SMS set (header skipped)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        label, _, text = line.partition("\t")
        rows.append((label.strip() == "1", text))
    return rows


def read_chat(root: Path) -> list[str]:
    """Message texts of the chat exports: IRC logs and Telegram desktop exports."""
    texts: list[str] = []
    for path in sorted(root.joinpath(*IRC).glob("*/*.raw.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _IRC_LINE.match(line)
            if match and match.group(1).strip():
                texts.append(match.group(1))
    for path in sorted(root.joinpath(*TELEGRAM).glob("*__exported.json")):
        for message in json.loads(path.read_text(encoding="utf-8")).get("messages", []):
            text = _telegram_text(message.get("text", ""))
            if text.strip():
                texts.append(text)
    return texts


def _telegram_text(text: str | list[Any]) -> str:
    if isinstance(text, str):
        return text
    return "".join(part if isinstance(part, str) else str(part.get("text", "")) for part in text)


def banned_words(root: Path, count: int) -> list[WordEntry]:
    """`count` distinct words (two or more characters once normalized), drawn with a fixed
    seed from every word list of the lexicon but the URL list."""
    pool: dict[str, WordEntry] = {}
    for path in sorted(root.joinpath(*LEXICON).glob("*.txt")):
        if path.name == URL_LIST or path.name.startswith("LICENSE"):
            continue
        entries, _ = parse_wordlist_lenient(path.read_text(encoding="utf-8", errors="replace"),
                                            category=path.stem, source=path.name)
        for entry in entries:
            if len(entry.word) >= 2:
                pool.setdefault(entry.word, entry)
    chosen = sorted(pool)
    random.Random(SEED).shuffle(chosen)
    if len(chosen) < count:
        raise InvalidInput("only {available} words in the lists", available=len(chosen))
    return [pool[word] for word in chosen[:count]]


# --- 1. matching throughput ------------------------------------------------------------------

def best_rate(items: Sequence[Any], work: Callable[[Any], object], rounds: int) -> float:
    """Items per second of the fastest of `rounds` passes, in this process's CPU time (one
    core: the work is single-threaded; other load on the machine does not count)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        for item in items:
            work(item)
        best = min(best, time.process_time() - started)
    return len(items) / best


def measure_matching(root: Path, sms: list[tuple[bool, str]], chat: list[str], *,
                     words: int, rounds: int, re_messages: int) -> dict[str, Any]:
    entries = banned_words(root, words)
    started = time.perf_counter()
    matcher = WordMatcher(entries)
    build_ms = (time.perf_counter() - started) * 1000
    alternation = re.compile("|".join(
        re.escape(w) for w in sorted((e.word for e in entries), key=len, reverse=True)))
    messages = [text for _, text in sms] + chat
    normalize(messages[0])  # build the character tables outside the timing

    def normalize_and_match(text: str) -> object:
        return matcher.find(normalize(text))

    def normalize_and_first(text: str) -> object:  # what the banned-words rule does
        return matcher.first(normalize(text))

    def normalize_and_re(text: str) -> object:
        return alternation.findall(normalize(text).text)

    engine = best_rate(messages, normalize_and_match, rounds)
    sample = messages[:re_messages]
    with_re = best_rate(sample, normalize_and_re, 1)
    engine_on_sample = best_rate(sample, normalize_and_match, rounds)
    agree = sum(bool(matcher.find(normalize(t))) == bool(alternation.search(normalize(t).text))
                for t in sample)
    normalized = [normalize(t) for t in messages]
    folded = [(n.original, n.text) for n in normalized]
    with_hit = [n.original for n in normalized if matcher.first(n) is not None]
    without_hit = [n.original for n in normalized if matcher.first(n) is None]

    def match_only(pair: tuple[str, str]) -> object:  # a fresh object: no cached spans
        return matcher.find(Normalized(*pair))

    return {
        "matching.words": len(entries),
        "matching.messages": len(messages),
        "matching.mean_chars": round(sum(map(len, messages)) / len(messages), 1),
        "matching.automaton_build_ms": round(build_ms, 1),
        "matching.normalize_only_msg_per_s": round(best_rate(messages, normalize, rounds)),
        "matching.match_only_msg_per_s": round(best_rate(folded, match_only, rounds)),
        "matching.normalize_and_match_msg_per_s": round(engine),
        "matching.normalize_and_first_match_msg_per_s": round(
            best_rate(messages, normalize_and_first, rounds)),
        "matching.messages_with_a_hit": len(with_hit),
        "matching.only_messages_without_a_hit_msg_per_s": round(
            best_rate(without_hit, normalize_and_match, rounds)),
        "matching.only_messages_with_a_hit_msg_per_s": round(
            best_rate(with_hit, normalize_and_match, rounds)),
        "matching.re_sample_messages": len(sample),
        "matching.re_alternation_msg_per_s": round(with_re, 1),
        "matching.engine_on_re_sample_msg_per_s": round(engine_on_sample),
        "matching.speedup_over_re": round(engine_on_sample / with_re, 1),
        "matching.re_agrees_on_hit_or_not": f"{agree}/{len(sample)}",
    }


# --- 2. false positives of the built-in ad rules ---------------------------------------------

def builtin_ad_rules() -> dict[str, Callable[[str], bool]]:
    lists = builtin_lists()
    ads, contact = WordMatcher(lists["ads"]), WordMatcher(lists["contact"])
    return {
        "ads_list": lambda text: ads.first(normalize(text)) is not None,
        "contact_list": lambda text: contact.first(normalize(text)) is not None,
        "contact_patterns": lambda text: bool(find_contacts(normalize(text))),
        "links": lambda text: bool(find_links(normalize(text))),
    }


def _rates(texts: Sequence[str], rules: dict[str, Callable[[str], bool]],
           prefix: str) -> Iterator[tuple[str, Any]]:
    fired = {name: [rule(t) for t in texts] for name, rule in rules.items()}
    any_rule = [any(column) for column in zip(*fired.values(), strict=True)]
    yield f"{prefix}.messages", len(texts)
    for name, column in fired.items():
        yield f"{prefix}.{name}_pct", round(100 * sum(column) / len(texts), 3)
    yield f"{prefix}.any_rule_pct", round(100 * sum(any_rule) / len(texts), 3)
    yield f"{prefix}.any_rule_count", sum(any_rule)


def measure_false_positives(sms: list[tuple[bool, str]], chat: list[str]) -> dict[str, Any]:
    rules = builtin_ad_rules()
    without_links = {k: v for k, v in rules.items() if k != "links"}
    figures = dict(_rates([t for spam, t in sms if not spam], rules, "fp.sms_ham"))
    figures.update(_rates(chat, rules, "fp.chat_exports"))
    figures["fp.chat_exports.any_rule_but_links_pct"] = round(
        100 * sum(any(rule(t) for rule in without_links.values()) for t in chat) / len(chat), 3)
    spam = [t for is_spam, t in sms if is_spam]
    figures["recall.sms_spam.any_rule_pct"] = round(
        100 * sum(any(rule(t) for rule in rules.values()) for t in spam) / len(spam), 2)
    return figures


# --- 3. classifier against the keyword baseline ----------------------------------------------

def measure_classifier(root: Path, sms: list[tuple[bool, str]]) -> dict[str, Any]:
    rows = list(sms)
    random.Random(SEED).shuffle(rows)
    cut = len(rows) * 7 // 10
    train, test = rows[:cut], rows[cut:]
    model = SpamClassifier()
    started = time.perf_counter()
    for spam, text in train:
        model.learn(message_features(text, newcomer=False), spam=spam)
    learn_s = time.perf_counter() - started
    scored = [(model.score(message_features(text, newcomer=False)), spam) for spam, text in test]
    ad_words, _ = parse_wordlist_lenient(
        root.joinpath(*LEXICON, AD_LIST).read_text(encoding="utf-8"), category="ads",
        source=AD_LIST)
    keywords = WordMatcher(ad_words)
    baseline = evaluate((keywords.first(normalize(text)) is not None, spam)
                        for spam, text in test)
    figures: dict[str, Any] = {"classifier.train_messages": len(train),
                               "classifier.test_messages": len(test),
                               "classifier.test_spam": sum(spam for spam, _ in test),
                               "classifier.learn_msg_per_s": round(len(train) / learn_s)}
    for threshold in (0.5, 0.9):
        result = evaluate((score >= threshold, spam) for score, spam in scored)
        for key in ("precision", "recall", "f1"):
            figures[f"classifier.at_{threshold}.{key}"] = round(float(result[key]), 4)
    for key in ("precision", "recall", "f1"):
        figures[f"keyword_baseline.{key}"] = round(float(baseline[key]), 4)
    figures["keyword_baseline.words"] = len(ad_words)
    return figures
