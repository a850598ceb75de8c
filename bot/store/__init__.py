"""Persistence: the store interfaces (base.py), their Redis implementations, and every Redis key name (keys.py).

`connect(url)` builds every store on one Redis client; nothing outside bot.store opens Redis or names a key.
"""

from bot.store.stores import Stores, connect

__all__ = ["Stores", "connect"]
