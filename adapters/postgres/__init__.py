"""PostgreSQL: the event store, data keys, schema helpers, session priority, staged recipients."""
