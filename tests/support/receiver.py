"""The webhook receiver the tests post to (``kontor.receiver``)."""

from kontor.receiver import Received, Receiver, receiver

__all__ = ["Received", "Receiver", "receiver"]
