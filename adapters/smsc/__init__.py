"""The SMSC simulator: a real SMPP 3.4 server with named failure scenarios (``kontor smsc-sim``).

- ``config``: scenarios and options (CLI flags, TOML, presets).
- ``server``: the asyncio server and one ``CarrierSession`` per bound client.
- ``record``: the durable SQLite record of every accepted submit_sm; ``reader`` reads it back.
"""
