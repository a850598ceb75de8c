"""Persistence: the store interfaces (base.py), their Redis implementations, and every Redis key name (keys.py).

`connect(url)` builds every store on one Redis client, `connect_settings(settings)` on the client the settings
describe (REDIS_URL, or the master that REDIS_SENTINELS name, connection.py) with their replica WAIT option;
nothing outside bot.store opens Redis or names a key.
"""

from bot.store.stores import Stores, connect, connect_settings

__all__ = ["Stores", "connect", "connect_settings"]
