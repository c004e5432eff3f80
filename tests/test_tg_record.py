"""The telegram_message record's following fields (issue 16): camelCase on the wire, an
event of new|edit|delete, a photo's sha256 as 64 hex digits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tradekit import jsonio
from tradekit.records import TelegramMessage


def test_the_following_fields_are_written_in_camel_case() -> None:
    message = TelegramMessage(
        channel="signaldesk", message_id=1807, date="2026-11-19T03:40:02Z", text="减仓30%",
        event="edit", version=2, is_edit=True, reply_to=1806, forwarded_from="Orchid",
        image_path="media/ab/" + "ab" * 32 + ".jpg", image_sha256="ab" * 32, source="web_preview",
    )  # fmt: skip
    assert jsonio.loads(jsonio.dumps(message.to_json_dict())) == {
        "record": "telegram_message", "channel": "signaldesk", "messageId": 1807, "version": 2,
        "date": "2026-11-19T03:40:02Z", "text": "减仓30%", "isEdit": True, "event": "edit",
        "replyTo": 1806, "forwardedFrom": "Orchid", "imagePath": "media/ab/" + "ab" * 32 + ".jpg",
        "imageSha256": "ab" * 32, "source": "web_preview",
    }  # fmt: skip


def test_an_old_record_without_them_still_reads_as_a_new_post() -> None:
    line = (
        b'{"record":"telegram_message","channel":"c","messageId":1,"date":"2026-11-20T10:00:00Z"}'
    )
    message = TelegramMessage.model_validate(jsonio.loads(line))
    assert (message.event, message.reply_to, message.image_sha256) == ("new", None, None)


@pytest.mark.parametrize(
    ("field", "value"), [("event", "pinned"), ("imageSha256", "ABC"), ("replyTo", "1806")]
)
def test_a_bad_value_names_its_field(field: str, value: str) -> None:
    line = {"record": "telegram_message", "channel": "c", "messageId": 1,
            "date": "2026-11-20T10:00:00Z", field: value}  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        TelegramMessage.model_validate(line)
    assert caught.value.errors()[0]["loc"] == (field,)
