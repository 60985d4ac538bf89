"""The processes that span contexts: plain Python over small ports (see services/ports.py).

Controllers and workers decode, call one service, encode and acknowledge; the rules live here,
reachable by unit tests with in-memory fakes (tests/fakes/)."""
