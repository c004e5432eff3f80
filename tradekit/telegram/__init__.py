"""Telegram channels: following them (sources/, media.py) and parsing their posts."""
