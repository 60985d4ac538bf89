"""NATS JetStream: topology, the connection, payloads of the send path, the outbox."""
