"""Inbound: replies (MO) correlated to the outgoing message they answer, and STOP replies that
put the handset on the account's opt-out list."""
