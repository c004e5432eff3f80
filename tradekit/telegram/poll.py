"""One poll of a channel's web preview: the newest page, older pages behind the `before`
cursor when the selection or a gap since the last poll needs them, then the follower's
records, with their photos attached."""

from __future__ import annotations

from dataclasses import dataclass, field

from tradekit.records import TelegramMessage
from tradekit.telegram.follow import Follower, Selection
from tradekit.telegram.media import MediaStore
from tradekit.telegram.sources.http import Fetcher
from tradekit.telegram.sources.post import Post
from tradekit.telegram.sources.webpreview import Page, parse_page

#: at most this many pages are read back in one poll (a --backfill of ~400 posts)
MAX_PAGES = 20


@dataclass
class PollOutcome:
    records: list[TelegramMessage] = field(default_factory=list)
    #: posts that could not be read (the rest are kept): a one-shot poll exits 65
    problems: list[str] = field(default_factory=list)
    #: photos not downloaded (their posts go on with the URL)
    warnings: list[str] = field(default_factory=list)


@dataclass
class WebPreviewPoller:
    fetcher: Fetcher
    follower: Follower
    preview_url: str
    media: MediaStore | None = None

    def poll(
        self, name: str, channel: str, now_ms: int, selection: Selection | None = None
    ) -> PollOutcome:
        selection = selection or Selection()
        outcome = PollOutcome()
        row = self.follower.channel(channel)
        last_id = row.last_id if row is not None else None
        pages = [self._page(name, None, outcome)]
        while len(pages) < MAX_PAGES and self._wants_older(pages, selection, last_id):
            cursor = pages[-1].before
            assert cursor is not None  # _wants_older checked it
            pages.append(self._page(name, cursor, outcome))
        records = self.follower.observe(
            channel, [page.posts for page in pages], now_ms, source="web_preview",
            selection=selection,
        )  # fmt: skip
        outcome.records = [self._attach(record, now_ms, outcome) for record in records]
        return outcome

    def _page(self, name: str, before: int | None, outcome: PollOutcome) -> Page:
        url = self.preview_url + name + (f"?before={before}" if before is not None else "")
        page = parse_page(self.fetcher.get(url).decode("utf-8", "replace"), name)
        outcome.problems += page.problems
        return page

    @staticmethod
    def _wants_older(pages: list[Page], selection: Selection, last_id: int | None) -> bool:
        oldest = pages[-1].posts[0] if pages[-1].posts else None
        if pages[-1].before is None or oldest is None:
            return False
        if len(pages) > 1 and pages[-1].before >= (pages[-2].before or 0):
            return False  # a cursor that does not move back: stop rather than loop
        if last_id is not None and not selection.explicit:
            return oldest.message_id > last_id + 1  # a gap since the last poll
        return _selection_wants_older(selection, oldest, sum(len(p.posts) for p in pages))

    def _attach(
        self, record: TelegramMessage, now_ms: int, outcome: PollOutcome
    ) -> TelegramMessage:
        if self.media is None or record.image_url is None:
            return record
        try:
            return self.media.attach(record, now_ms)
        except Exception as exc:  # the post goes on with its URL; the photo is reported
            outcome.warnings.append(f"post {record.message_id}: photo not downloaded: {exc}")
            return record


def _selection_wants_older(selection: Selection, oldest: Post, seen: int) -> bool:
    if selection.since_id is not None:
        return oldest.message_id > selection.since_id + 1
    if selection.since_time is not None:
        return oldest.date > selection.since_time
    return selection.backfill is not None and seen < selection.backfill
