"""The words of the parser, per field and per language, as data.

Labels are plain phrases (matched case-insensitively; a phrase in Latin or Cyrillic letters
only as a whole word). Patterns are small regular expressions for phrases that carry a
value or need a context (a percentage, "多" right after a price). Add a language by adding
its words here; the grammar (grammar.py) does not change.
"""

from __future__ import annotations

from types import MappingProxyType

#: Labels that introduce a field's value; the value runs to the next label.
LABELS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "entry": (
            # zh-Hans, zh-Hant
            "进场位", "进场价", "进场", "入场", "進場位", "進場價", "進場", "入場",
            # en
            "entry zone", "entry targets", "entry target", "entry price", "entry", "entries",
            "buy zone", "sell zone", "buy range", "sell range", "@",
            # ru, vi, es, tr
            "точка входа", "вход", "vùng vào lệnh", "giá vào lệnh", "giá vào", "điểm vào",
            "vào lệnh", "entrada", "zona de entrada", "giriş", "giris",
        ),
        "limit": ("limit", "限价", "限價", "лимит", "giới hạn", "límite", "limit emir"),
        "market": (
            "市价", "市價", "现价", "現價", "附近", "near", "cmp", "at market", "market price",
            "market", "по рынку", "рынок", "thị trường", "mercado", "piyasa",
        ),
        "stop": (
            "止损位", "止损", "止損位", "止損", "stop loss", "stop-loss", "stoploss",
            "stop targets", "stop target", "stop", "sl", "стоп-лосс", "стоп лосс", "стоп",
            "сл", "cắt lỗ", "dừng lỗ", "stop de pérdida", "zarar durdur", "zarar kes",
        ),
        "target": (
            "止盈位", "止盈", "盈利位", "目标位", "目标", "目標位", "目標", "take-profit targets",
            "take profit targets", "take-profit", "take profit", "targets", "target", "tps",
            "tp", "цели", "цель", "тейк-профит", "тейк", "тп", "chốt lời", "mục tiêu",
            "objetivos", "objetivo", "hedefler", "hedef", "kar al",
        ),
        "leverage": (
            "leverage", "lev", "杠杆", "槓桿", "倍数", "плечо", "đòn bẩy", "kaldıraç",
            "kaldirac", "apalancamiento",
        ),
        # Read, then thrown away: their numbers are not prices of the plan.
        "comment": (
            "ote", "signal id", "period", "profit", "loss", "exchanges", "exchange",
            "average entry price", "current price", "现价参考",
        ),
    }
)  # fmt: skip

#: Labels whose block (to the next blank line) is bot configuration, not the trade.
BLOCK_COMMENTS: tuple[str, ...] = ("trailing configuration", "trailing stop configuration")

#: Target-like labels may carry an index right after them: "TP1 0.78", "止盈1 176".
INDEXED = frozenset({"target", "stop", "entry"})

#: The side, as words. Latin and Cyrillic words match whole; the others anywhere.
SIDE_WORDS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "long": ("做多", "多单", "多單", "开多", "開多", "long", "buy", "лонг", "largo",
                 "compra"),
        "short": ("做空", "空单", "空單", "开空", "開空", "short", "sell", "шорт", "kisa",
                  "kısa", "venta"),
    }
)  # fmt: skip
#: "多" / "空" are a side only right after a price (市價0.1832附近多).
SIDE_AFTER_PRICE: MappingProxyType[str, str] = MappingProxyType({"多": "long", "空": "short"})
#: Side words that are something else in these phrases.
NOT_SIDES: tuple[str, ...] = (
    "short term", "long term", "mid term", "buy zone", "sell zone", "buy range", "sell range",
)  # fmt: skip

#: Hashtags that are labels, never tickers.
TAG_WORDS = frozenset(
    {"VIP", "SIGNAL", "SIGNALS", "ALERT", "NEW", "UPDATE", "FUTURES", "SPOT", "SCALP",
     "SWING", "CRYPTO", "FREE", "PREMIUM", "TRADE", "LONG", "SHORT", "BUY", "SELL", "ID"}
)  # fmt: skip
#: Labels that name the pair: "Pair: ADA", "COIN: $XRP/USDT".
PAIR_LABELS: tuple[str, ...] = ("pair", "coin", "symbol", "asset", "монета", "пара", "cặp", "par")
#: Upper-case words that are contracts too, but in a post are ordinary words.
NOT_BARE_TICKERS = frozenset(
    {"A", "AI", "ALL", "AND", "AT", "B", "BANK", "BAN", "C", "DM", "ERA", "F", "FOR", "FORM",
     "FUN", "G", "H", "HOME", "HOOK", "ID", "IN", "IO", "IP", "LA", "M", "ME", "MOVE", "NOT",
     "NOW", "OG", "OL", "ON", "ONE", "RED", "S", "SAFE", "SHELL", "SIGN", "SUN", "SUPER", "T",
     "TA", "THE", "TREE", "W", "USDT", "USDC", "USD", "TP", "SL", "CMP", "OTE", "VIP", "ETF",
     "CPI", "FOMC", "LONG", "SHORT", "BUY", "SELL", "PNL", "ROI", "ATH", "UTC", "OK", "DCA"}
)  # fmt: skip

# -- what a post that is not an entry asks for -------------------------------------------
#: Each is a regular expression (case-insensitive) over the normalised post.
CLOSE_ALL: tuple[str, ...] = (
    r"全部平[仓倉]", r"全平", r"清[仓倉]", r"[结結]束[这這][单單]", r"市[价價]止盈",
    r"平掉全部", r"\bclose (?:all|everything|the (?:whole |entire )?(?:position|trade))\b",
    r"\bclosed? due to\b", r"\bexit (?:all|the trade|now)\b", r"đóng toàn bộ", r"đóng lệnh",
    r"закры(?:ть|ваем|ваю|ем) (?:все|всё|позицию|сделку)", r"cerrar todo", r"cerramos todo",
    r"hepsini kapat", r"pozisyonu kapat",
)  # fmt: skip
#: A percentage to take off: group 1 is the number.
REDUCE_PCT: tuple[str, ...] = (
    r"(?:减仓|減倉|平仓|平倉|止盈|减|減|\breduce|\bclose|\btake|\bbook|\bsecure|фиксируем|"
    r"фиксирую|закрываем|закрыть|chốt|đóng|cerramos|cerrar|asegurar|kapat)\s*(?:off\s*)?"
    r"(\d+(?:\.\d+)?)\s*%",
    r"(\d+(?:\.\d+)?)\s*%\s*(?:off|of (?:the |your )?position|позиции|vị thế|de la posición)",
)  # fmt: skip
HALF: tuple[str, ...] = (
    r"[减減][仓倉]一半", r"平一半", r"一半仓位", r"\b(?:close|take|book|secure) half\b",
    r"половин", r"một nửa", r"la mitad", r"yarısını",
)  # fmt: skip
MOVE_SL_TO_BE: tuple[str, ...] = (
    r"[设設]保本", r"保本",
    r"(?:止损|止損)\S{0,4}(?:开仓价|開倉價|成本|入场价|入場價|进场价|進場價)",
    r"\b(?:move|set|moving|put)\s+(?:the\s+|your\s+)?(?:sl|stop(?:\s*loss)?|stoploss)\s+to\s+"
    r"(?:be|breakeven|break[- ]even|entry|cost)\b",
    r"\bbreak[- ]?even\b", r"\bsl to be\b", r"безубыт", r"hòa vốn", r"punto de equilibrio",
    r"başa baş",
)  # fmt: skip
#: A new target price: group 1 is the number.
SET_TP: tuple[str, ...] = (
    r"(?:\btp|止盈|тп|\btarget|目标|目標)\s*\d{0,2}\s*(?:看|改为|改到|调整到|調整到|->|→|=>|"
    r"\bto\b|\bnow\b|теперь|на)\s*(\d+(?:\.\d+)?)",
)  # fmt: skip
#: Instructions no rule may carry out: (pattern, reason, missing fields).
MANUAL_INSTRUCTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (r"[减減]掉?[补補][仓倉]|平掉[补補][仓倉]|\b(?:close|remove) the (?:add|dca|re-?entry)",
     "reduce the add-on part: its size is not known to the follower", ("reduce_pct",)),
    (r"[补補][仓倉]|加[仓倉]|\badd (?:to|more)\b|\bdca\b|докуп|thêm vị thế|promediar",
     "add to position without a size; never auto-add", ("size",)),
    (r"\bcancel|取消|撤[单單]|отмен|hủy|cancelar|iptal",
     "cancel unfilled entry orders; not an automatic action", ()),
)  # fmt: skip

#: Analysis that says not to enter: never an entry, whatever else it names.
NO_ENTRY: tuple[str, ...] = (
    r"不建议", r"不建議", r"别追", r"別追", r"先观望", r"先觀望", r"\bno entry\b",
    r"\bdon'?t (?:enter|chase|buy|sell)\b", r"\bnot (?:an? )?(?:entry|signal)\b",
    r"\bi'?d wait\b", r"\bwait for\b", r"не входим", r"пока не входим", r"chưa vào",
    r"no entrar", r"girmeyin",
)  # fmt: skip
#: Reports, chatter, reminders, news and promotions: (pattern, reason).
NON_SIGNALS: tuple[tuple[str, str], ...] = (
    (r"止盈\d?已|已止盈|已到|目标达成|目標達成|\btp\d?\s*(?:hit|done|reached)|take-profit target \d"
     r"|target \d+ (?:hit|done|reached|✅)|\bhit\b.*✅", "take-profit hit report"),
    (r"止[损損]出局|止[损損]已|\bsl hit\b|\bstop(?:loss| loss)? hit\b|stoploss ⛔|⛔|\bloss\s*:",
     "stop-loss hit report"),
    (r"已全部成交|已成交|all entry targets? achieved|\bentry (?:filled|achieved)\b|\bfilled\b",
     "fill report"),
    (r"耐心|持有|拿着|拿著|\bstill holding\b|\bbe patient\b|\bnothing to do\b|\bhold(?:ing)?\b",
     "status chatter"),
    (r"风险|風險|控制好仓位|控制好倉位|\breminder\b|\brisk management\b|\bnever risk\b",
     "risk reminder"),
    (r"\bbreaking\b|\bnews\b|\bheadline\b|快讯|快訊|新闻|新聞", "news headline"),
    (r"战绩|戰績|名额|名額|私聊|进群|進群|\bvip (?:results|group|channel)\b|\bpremium\b"
     r"|\bseats?\b|\bjoin\b|\bdm\b|\+\d+(?:\.\d+)?% profit", "promotion"),
    (r"\bprofit\s*:|利润|利潤|恭喜|\bcongrat", "result report"),
)  # fmt: skip
