"""The carrier sender: one SMPP bind per route of the carriers file.

Each bind (``bind.CarrierBind``) is three thin workers around one ``SmppClient``:

- ``submitter.Submitter`` follows ``<P>_ROUTE`` (the transactional lane always apart from, and
  never behind, the campaigns) and hands each fetch of ``OutboundBatch`` NATS messages to
  ``services.submission.Submission``, which claims, triages, submits, records and says what to
  answer each NATS message;
- ``receipt_tap.ReceiptTap`` seals every deliver_sm (receipts and replies) and stores it in
  ``<P>_INBOUND`` before the client answers it, so the SMSC redelivers anything not kept;
- ``status_query.StatusQuery`` answers operators' questions (query_sm) from ``<P>_QUERY``.

The rules live in ``services/``; these modules fetch, decode, call the service and acknowledge.
"""

from __future__ import annotations

import asyncio

from adapters.carriers import load_carriers
from settings import Settings
from workers.carrier.bind import CarrierBind
from workers.runtime import worker_runtime


async def main(settings: Settings) -> int:
    if settings.carriers_file is None:
        raise RuntimeError("the carrier sender needs KONTOR_CARRIERS_FILE")
    carriers = load_carriers(settings.carriers_file)
    async with worker_runtime(settings, "carrier", pool_size=8) as runtime:
        binds = [CarrierBind(runtime, bind) for bind in carriers.binds.values()]
        await asyncio.gather(*(bind.run() for bind in binds))
    return 0


def run(settings: Settings) -> int:
    return asyncio.run(main(settings))
