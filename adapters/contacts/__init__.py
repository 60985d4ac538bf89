"""Contacts' working data in PostgreSQL: lists, recipients, opt-outs, import jobs.

Entry points (``services.ContactServices``, on ``Backend.contact_services``):

- ``lists`` (``list_service.ListService``), ``imports`` (``import_service.ImportService``),
  ``privacy`` (``privacy_service.PrivacyService``): one method per API request.
- ``runner()`` (``runner.ImportRunner``): what the ``imports`` worker runs.
- For the send pipeline: ``optouts.suppressed_hashes`` (the opt-out check, one query per batch)
  and ``reading.iter_recipients`` (a list's recipients in stable batches).
"""
