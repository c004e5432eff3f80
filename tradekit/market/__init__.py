"""Market data: candles, their validation, the local store and resampling."""
