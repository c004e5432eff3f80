"""The rules parser (tradekit.telegram): the dev set, the seed's bugs, the conventions one by
one, and properties over arbitrary text. No I/O: parse_post is a plain function."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.exchange.contracts import parse_contract_list, usdt_perpetuals
from tradekit.telegram import EntrySignal, ManageAction, NeedsManual, NonSignal, parse_post
from tradekit.telegram.scoring import labelled, mismatches
from tradekit.telegram.text import normalize

DEV_SET = Path(__file__).parent / "data" / "telegram" / "dev-set.jsonl"
CASES = [json.loads(line) for line in DEV_SET.read_text("utf-8").splitlines()]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_every_dev_set_post_parses_as_labelled(case: dict) -> None:
    got = labelled(parse_post(case["text"], has_image=case["has_image"]))
    assert mismatches(case["expected"], got) == [], (case["expected"], got)


def entry(text: str) -> EntrySignal:
    result = parse_post(text)
    assert isinstance(result, EntrySignal), result
    return result


# -- the seed's defects (seed002-spec §5.1, §19) -----------------------------------------


def test_seed_bug_tp_with_a_space_is_the_price_not_an_index() -> None:
    signal = entry("BTC LONG\nEntry: 62000\nSL: 61000\nTP 63000")
    assert signal.take_profits == (Decimal(63000),)


def test_seed_bug_english_entries_are_read() -> None:
    signal = entry("BUY SOL/USDT\nEntry: 176.5\nSL 169.8\nTP 181, 186")
    assert (signal.symbol, signal.side, signal.entry_low) == ("SOLUSDT", "long", Decimal("176.5"))
    assert signal.take_profits == (Decimal(181), Decimal(186))


def test_seed_bug_traditional_chinese_is_read() -> None:
    signal = entry("交易信號 #ENA（15x做多）\n✏️進場位：0.6120—0.5980\n❌止損位：0.5750")
    assert (signal.entry_low, signal.entry_high) == (Decimal("0.5980"), Decimal("0.6120"))
    assert (signal.stop_loss, signal.leverage) == (Decimal("0.5750"), 15)


def test_seed_bug_market_entry_without_a_price() -> None:
    signal = entry("#DOGE/USDT 50x做空\n进场：市价\n止损：0.4120")
    assert signal.market and signal.entry_low is None and signal.entry_high is None


# -- conventions -------------------------------------------------------------------------


def test_index_then_space_then_price_never_merges_digits() -> None:
    signal = entry("#SOL/USDT 做多\n进场 140\n止损 135\n止盈1 148 止盈2 152")
    assert signal.take_profits == (Decimal(148), Decimal(152))


def test_full_width_digits_and_punctuation_read_as_ascii() -> None:
    signal = entry("#ＡＲＢ/USDT（２０x做多）\n进场：０．７４２０—０．７５５０\n止损：０．７１８０")
    assert (signal.symbol, signal.leverage, signal.entry_low) == ("ARBUSDT", 20, Decimal("0.7420"))


def test_evidence_quotes_the_post_exactly_even_after_folding() -> None:
    post = "🚀 #TIA/USDT 🚀\n🟢 LONG\n📥 Entry：6.12 - 5.95\n🛑 SL：5.70\n⚡️ Leverage: 10x"
    signal = entry(post)
    assert signal.evidence["entry"] == "Entry：6.12 - 5.95"
    assert signal.evidence["stopLoss"] == "SL：5.70"
    assert all(quote in post for quote in signal.evidence.values())


def test_leverage_ranges_take_the_lower_bound_and_x_prefix_reads() -> None:
    assert entry("NEAR/USDT LONG\nLeverage: 10x-20x\nEntry: 5.42").leverage == 10
    assert entry("COIN: $XRP/USDT (3-5x)\nDirection: LONG\nENTRY: 2.180").leverage == 3
    assert entry("#AAVE/USDT (Long, x10)\nEntry Targets: 1) 312.5 2) 305.0").leverage == 10


def test_a_leverage_over_125_needs_a_person() -> None:
    result = parse_post("BTC LONG\nEntry: 96000\nSL 95000\n200x")
    assert isinstance(result, NeedsManual) and "125" in result.reason


def test_prices_ten_times_apart_are_a_typo_not_a_trade() -> None:
    result = parse_post("#ARB/USDT 做多\n进场：0.7420\n止损：0.7180\n止盈：7.800")
    assert isinstance(result, NeedsManual) and "10x apart" in result.reason


def test_a_target_on_the_losing_side_needs_a_person() -> None:
    result = parse_post("BTC LONG\nEntry: 96000\nSL 95000\nTP 94000")
    assert isinstance(result, NeedsManual) and result.symbol == "BTCUSDT"


def test_a_stop_inside_a_long_range_is_invalid_not_dropped() -> None:
    signal = entry("BTC LONG\nEntry: 96000 - 97000\nSL 96500\nTP 99000")
    assert not signal.valid and "96500" in (signal.problem or "")


def test_one_letter_hashtag_only_when_the_contract_exists() -> None:
    assert entry("#W 市價0.0925附近空 (20X)").symbol == "WUSDT"
    result = parse_post("#Q 市價0.0925附近空 (20X)")
    assert isinstance(result, NeedsManual) and result.missing_fields == ("symbol",)
    assert "QUSDT" in result.reason


def test_the_contract_list_comes_from_the_bundled_file() -> None:
    markets = usdt_perpetuals()
    assert {"BTCUSDT", "HUSDT", "1000BONKUSDT"} <= markets and "QUSDT" not in markets
    assert parse_contract_list("# c\nbtcusdt\n\n ETHUSDT # x\n") == {"BTCUSDT", "ETHUSDT"}
    signal = parse_post("#ZEC 市價452附近空（10X）", markets=frozenset({"BTCUSDT"}))
    assert isinstance(signal, NeedsManual)


def test_a_reply_without_a_symbol_keeps_none() -> None:
    result = parse_post("减仓一半，止损移到开仓价")
    assert isinstance(result, ManageAction) and result.symbol is None
    assert result.actions == ("reduce", "move_sl_to_be")


def test_a_report_is_not_an_instruction_but_a_report_with_one_is() -> None:
    assert isinstance(parse_post("止盈1已到 恭喜"), NonSignal)
    result = parse_post("TP1 done ✅ move stop to entry on $OP")
    assert isinstance(result, ManageAction) and result.symbol == "OPUSDT" and result.move_sl_to_be


def test_cornix_trailing_block_is_not_a_stop_or_a_manage_action() -> None:
    post = (
        "#DOT/USDT\nSignal Type: Regular (Short)\nEntry Targets:\n1) 7.420\n2) 7.560\n\n"
        "Stop Targets:\n1) 7.950\n\n"
        "Trailing Configuration:\nStop: Breakeven -\n Trigger: Target (1)"
    )
    signal = entry(post)
    assert signal.stop_loss == Decimal("7.950") and signal.take_profits == ()


def test_a_short_image_caption_needs_vision() -> None:
    result = parse_post("#SUI 點位看圖 👇", has_image=True)
    assert isinstance(result, NeedsManual)
    assert set(result.missing_fields) == {"side", "entry"} and result.symbol == "SUIUSDT"


def test_normalize_maps_every_character_back_to_the_post() -> None:
    norm = normalize("1️⃣ TP1：9.60")
    assert norm.text == "  TP1:9.60"
    start = norm.text.index("9.60")
    assert norm.quote(start, start + 4) == "9.60"


# -- properties ---------------------------------------------------------------------------

RESULTS = (EntrySignal, ManageAction, NeedsManual, NonSignal)
SIGNAL_WORDS = st.sampled_from(
    ["LONG", "做空", "TP1", "SL", "Entry:", "止盈", "#BTC/USDT", "20x", "1)", "—", "：", "％",
     "附近", "市價", "１２３．５", "⚡️", "1️⃣", "\n", " ", "-", "/", "null", "%", "$ETH", "#币安"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_on_arbitrary_text(text: str) -> None:
    assert isinstance(parse_post(text, has_image=len(text) % 2 == 0), RESULTS)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(SIGNAL_WORDS, st.decimals(0, 10**6, places=4).map(str)), max_size=40))
def test_never_raises_on_signal_like_fragments(parts: list[str]) -> None:
    result = parse_post(" ".join(parts))
    assert isinstance(result, RESULTS)
    if isinstance(result, EntrySignal):
        low, high = result.entry_low, result.entry_high
        assert (low is None) == (high is None) and (low is None or low <= high)  # type: ignore[operator]
        assert result.leverage is None or 1 <= result.leverage <= 125


@settings(max_examples=5, deadline=None)
@given(st.sampled_from(["🚀", "ｘ", "：", "A1 ", "多", "\n\n", "#"]))
def test_a_100_kb_post_is_parsed_without_error(unit: str) -> None:
    post = "BTC LONG\nEntry: 96000\n" + unit * (100_000 // len(unit))
    assert isinstance(parse_post(post), RESULTS)


def test_same_post_same_parse() -> None:
    for case in CASES:
        assert parse_post(case["text"]) == parse_post(case["text"])
