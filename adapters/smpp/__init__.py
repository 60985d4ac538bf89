"""SMPP 3.4: the carrier connection of the send path.

- ``codec`` (``encoder``, ``decoder``), ``pdu``, ``framing``: PDUs as typed values and bytes.
- ``client`` (``SmppClient``, ``config.ClientConfig``) and ``outcomes`` (``SubmitRequest``,
  ``PartOutcome``, ``QueryResult``): what the carrier sender calls.
- ``receipt`` (``parse_receipt``, ``is_receipt``, ``DeliveryState``) and ``message_id``
  (``canonical_message_id``): what the DLR ingest calls.
- ``session``: one connection, shared with the SMSC simulator in ``adapters.smsc``.
"""
