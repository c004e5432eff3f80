"""Where channel posts come from: the public web preview (t.me/s/CHANNEL) and a Telegram
account (Telethon). Both give the same Post, which follow.py turns into telegram_message
records."""
