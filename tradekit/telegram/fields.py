"""The fields of a post as the grammar reads them, before anything is decided."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from tradekit.telegram.grammar import Hit, Label, Num, Region, Scan

ENTRY_FIELDS = frozenset({"entry", "market", "limit"})


@dataclass(frozen=True, slots=True)
class Fields:
    sides: tuple[Hit, ...]
    leverage: Hit | None
    entry: tuple[Num, ...]
    entry_label: Label | None
    market: bool
    enumerated: bool
    stop: Num | None
    stop_label: Label | None
    targets: tuple[Num, ...]
    #: the weight (percent) given with each target, None where there is none
    weights: tuple[Decimal | None, ...]
    targets_label: Label | None

    @property
    def side(self) -> str | None:
        return self.sides[0].value if self.sides else None

    @property
    def side_conflict(self) -> bool:
        return len({hit.value for hit in self.sides}) > 1

    @property
    def has_entry(self) -> bool:
        return bool(self.entry) or self.market

    @property
    def is_entry(self) -> bool:
        """A side and an entry: a price, or a market entry with a stop, target or leverage."""
        if self.side is None:
            return False
        if self.entry:
            return True
        return self.market and bool(self.stop or self.targets or self.leverage)


def read_fields(scan: Scan) -> Fields:
    leverage = scan.leverage()
    sides = scan.sides()
    percentages = scan.percentages()
    labels = scan.labels()
    regions = scan.regions(labels, percentages)
    entry_regions = [r for r in regions if r.label.field in ENTRY_FIELDS]
    entry = [num for region in entry_regions for num in region.numbers]
    if not entry_regions:
        entry = scan.numbers_before(labels[0].start if labels else len(scan.text))
    stop_region = next((r for r in regions if r.label.field == "stop" and r.numbers), None)
    target_regions = [r for r in regions if r.label.field == "target"]
    targets, weights = _targets(target_regions)
    if leverage is None:
        leverage = _labelled_leverage(regions)
    return Fields(
        sides=tuple(sides),
        leverage=leverage,
        entry=tuple(entry),
        entry_label=entry_regions[0].label if entry_regions else None,
        market=any(label.field == "market" for label in labels),
        enumerated=any(region.enumerated for region in entry_regions),
        stop=stop_region.numbers[0] if stop_region else None,
        stop_label=stop_region.label if stop_region else None,
        targets=tuple(targets),
        weights=tuple(weights),
        targets_label=target_regions[0].label if target_regions else None,
    )


def _targets(regions: list[Region]) -> tuple[list[Num], list[Decimal | None]]:
    """Every target in the order written; a percentage after a target is its weight."""
    targets: list[Num] = []
    weights: list[Decimal | None] = []
    for region in regions:
        for num in region.numbers:
            targets.append(num)
            weights.append(None)
        for weight in region.weights:
            before = [i for i, num in enumerate(targets) if num.start < weight.start]
            if before and weights[before[-1]] is None:
                weights[before[-1]] = weight.value
    return targets, weights


def _labelled_leverage(regions: list[Region]) -> Hit | None:
    """`Leverage: 10` with no x: the first number after a leverage label."""
    for region in regions:
        if region.label.field == "leverage" and region.numbers:
            num = region.numbers[0]
            return Hit(region.label.start, num.end, str(num.value))
    return None
