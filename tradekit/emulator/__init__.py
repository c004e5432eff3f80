"""A local Bitget v2 REST emulator, so the real ccxt client can be tested on 127.0.0.1."""
