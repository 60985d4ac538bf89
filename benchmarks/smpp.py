"""``kontor bench smpp``: the SMPP layer on loopback, codec alone and one bind end to end.

Starts ``kontor smsc-sim`` (happy scenario, receipts after 0-50 ms) as a child process, binds one
client with the given window and submits N parts from ``2 x window`` concurrent senders, as the
carrier sender would. Every receipt is parsed in the callback, as the DLR ingest would. Prints:

- ``codec_pdus_per_s``: submit_sm and deliver_sm receipts, encode + decode, one core;
- ``submits_per_s``: N over first submit to last submit_sm_resp;
- ``dlrs_per_s``: N over first submit to last receipt acknowledged by the callback;
- ``recorded`` and ``duplicates`` from the simulator's record, which must be N and 0;
- ``client_cpu_us_per_msg`` and ``smsc_cpu_us_per_msg``: CPU time (user + system) per message
  of each process, the figure that does not depend on what else the machine is doing.

Client and simulator share this machine's two cores, so the figures are per bind, per machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path

import psutil

from adapters.smpp.client import SmppClient
from adapters.smpp.codec import decode, encode
from adapters.smpp.config import ClientConfig
from adapters.smpp.constants import Tag
from adapters.smpp.outcomes import PartAccepted, SubmitRequest, build_submit_sm
from adapters.smpp.pdu import DeliverSm
from adapters.smpp.receipt import parse_receipt
from adapters.smpp.tlv import cstring_tlv, int_tlv
from adapters.smsc.process import SimulatorProcess
from adapters.smsc.reader import SmscRecord
from settings import Settings

PART = bytes.fromhex("050003a70201") + b"Ihr Termin am Montag um 10:00 Uhr ist bestaetigt." * 2


def codec_rate(seconds: float = 1.0) -> float:
    submit = build_submit_sm(
        SubmitRequest(source="Kontor", destination="+4917012345678", payload=PART, esm_class=0x40)
    )
    receipt = DeliverSm(
        source_addr="4917012345678",
        destination_addr="Kontor",
        esm_class=0x04,
        short_message=b"id:100000017 sub:001 dlvrd:001 submit date:2611251335 done date:"
        b"2611251336 stat:DELIVRD err:000 text:Ihr Termin am Mont",
        tlvs=(cstring_tlv(Tag.RECEIPTED_MESSAGE_ID, "100000017"), int_tlv(Tag.MESSAGE_STATE, 2, 1)),
    )
    operations = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for _ in range(500):
            decode(encode(submit, 7))
            decode(encode(receipt, 8))
        operations += 2000
    return operations / (time.perf_counter() - started)


async def run_bind(sim: SimulatorProcess, messages: int, window: int) -> dict[str, float]:
    receipts = 0
    last_receipt = 0.0
    all_in = asyncio.Event()

    async def on_deliver(pdu: DeliverSm) -> None:
        nonlocal receipts, last_receipt
        parse_receipt(pdu)
        receipts += 1
        last_receipt = time.perf_counter()
        if receipts >= messages:
            all_in.set()

    config = ClientConfig(
        host=sim.host,
        port=sim.port,
        system_id=sim.account[0],
        password=sim.account[1],
        window=window,
    )
    next_index = 0
    accepted = 0

    async def sender(client: SmppClient) -> None:
        nonlocal next_index, accepted
        while next_index < messages:
            i = next_index
            next_index += 1
            outcome = await client.submit(
                SubmitRequest(source="Kontor", destination=f"+49170{i:08d}", payload=PART)
            )
            accepted += isinstance(outcome, PartAccepted)

    async with SmppClient(config, on_deliver) as client:
        cpu = time.process_time()
        started = time.perf_counter()
        await asyncio.gather(*(sender(client) for _ in range(2 * window)))
        submitted = time.perf_counter()
        await asyncio.wait_for(all_in.wait(), timeout=120)
        cpu = time.process_time() - cpu
    return {
        "accepted": accepted,
        "receipts": receipts,
        "submits_per_s": round(messages / (submitted - started)),
        "dlrs_per_s": round(messages / (last_receipt - started)),
        "client_max_in_flight": client.max_in_flight,
        "client_cpu_us_per_msg": round(cpu / messages * 1e6),
    }


def main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(prog="kontor bench smpp", description=__doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--window", type=int, default=64)
    parser.add_argument("--json", action="store_true", help="JSON only (the default output)")
    args = parser.parse_args(argv)
    scratch = settings.resolved_var_dir / "bench"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="smpp-", dir=scratch) as tmp:
        record = Path(tmp) / "smsc.sqlite"
        sim = SimulatorProcess(record, ["--dlr-delay", "0,0.05"])
        sim.start()
        try:
            codec = codec_rate()
            assert sim.process is not None
            smsc = psutil.Process(sim.process.pid)
            smsc_cpu = sum(smsc.cpu_times()[:2])
            result = asyncio.run(run_bind(sim, args.messages, args.window))
            smsc_cpu = sum(smsc.cpu_times()[:2]) - smsc_cpu
        finally:
            sim.stop()
        with SmscRecord(record) as reader:
            recorded, duplicates = reader.count_submits(), len(reader.duplicates())
            max_in_flight = reader.stat("max_in_flight")
    report = {
        "messages": args.messages,
        "window": args.window,
        "codec_pdus_per_s": round(codec),
        **result,
        "recorded": recorded,
        "duplicates": duplicates,
        "smsc_max_in_flight": max_in_flight,
        "smsc_cpu_us_per_msg": round(smsc_cpu / args.messages * 1e6),
    }
    print(json.dumps(report))
    return 0
