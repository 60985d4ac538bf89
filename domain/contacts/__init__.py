"""Contacts: recipient lists, personalisation fields, opt-outs and erasure.

- ``numbers.NumberNormaliser().normalise(raw)`` -> ``PhoneNumber`` (fast for common German forms).
- ``fields``: field names (``field_key``), merge rule (``merge_fields``), an import file's
  column map (``detect_columns``).
- ``application.Contacts``: the audit trail (``RecipientList``, ``OptOut``, ``Erasure``).

The working data (lists, recipients, opt-out table, import jobs) lives in ``adapters.contacts``.
"""
