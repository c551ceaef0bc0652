"""A local Binance USDⓈ-M compatible HTTP server (`bot exchange-sim`).

The real, unmodified `ccxt.binanceusdm` client trades against it: signed requests,
Binance's JSON error shape, a matching engine on recorded candles, a market clock
that tests can step, and seeded fault injection. Not a Binance emulator beyond what
ccxt 4.5.90 calls (see README, "Exchange").
"""
