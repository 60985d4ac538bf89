"""Chaos on the whole send path, with exact accounting: what the carrier received against what
the platform recorded and charged.

A ``ChaosStack`` is PostgreSQL and NATS JetStream of its own (so they can be stopped, killed and
started again), the SMSC simulator and every worker and the API as real processes
(``kontor.stack.Pipeline``). An experiment starts a campaign, does its harm while the campaign
runs, waits until every message is final, and measures (``Figures``):

- from the simulator's record: submits, repeated submits (the same part to the same handset
  again) and the handsets that got a message twice;
- from the platform: messages recorded uncertain, repeats of messages *not* recorded uncertain
  (the promise is that there are none), messages left without a final state, the charge
  against the prices of the accepted messages, the trial balance;
- the submits in doubt: those the carrier answered (it is in its record) with an id the
  platform never recorded, i.e. the answers a crash took with it.

The e2e tests run each experiment of the exactly-once issue at a size CI can afford;
``kontor bench chaos`` runs random rounds of them and prints the figures.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg

from adapters.embedded import (
    EmbeddedNats,
    EmbeddedPostgres,
    ServerSpec,
    ensure_database,
    postgres_answers,
    start_in_background,
    tcp_answers,
    wait_until,
)
from adapters.postgres.migrations import migrate
from adapters.smpp.message_id import canonical_message_id
from kontor.samples import registration
from kontor.stack import Pipeline
from settings import Settings

FINAL = frozenset({"delivered", "failed", "rejected", "cancelled"})


class Server:
    """An embedded server this harness may stop, kill and start again on the same port."""

    def __init__(self, spec: ServerSpec, answers: Callable[[str], bool]) -> None:
        self.spec = spec
        self.answers = answers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return self.spec.url

    def start(self) -> None:
        self.process = start_in_background(self.spec)
        wait_until(lambda: self.answers(self.spec.url), timeout=60, what=self.spec.name)

    def stop(self, sig: int | None = None) -> None:
        """Stop it with ``sig`` (its own stop signal by default; SIGKILL kills)."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(self.spec.stop_signal if sig is None else sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Harm:
    """What an experiment did, for the figures."""

    sender_kills: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Figures:
    experiment: str
    messages: int
    submits: int
    repeated_submits: int
    handsets_twice: int
    uncertain: int
    unrecorded_repeats: int
    """Repeated submits of messages not recorded uncertain: must be 0."""
    in_doubt: int
    """Messages the carrier answered with an id the platform never recorded."""
    over_flagged: int
    """Messages recorded uncertain that the carrier received only once, by their last attempt:
    their first attempt never reached it (claimed right before the write when a crash came,
    or written into a link that died first). The platform cannot tell these from real doubt;
    they are bounded by the window at each harm."""
    lost: int
    """Messages without a final state once the campaign completed (or timed out)."""
    charged: int
    captured_prices: int
    trial_balance_balanced: bool
    sender_kills: int
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ChaosStack:
    def __init__(
        self,
        workdir: Path,
        base: Settings,
        sim_args: list[str],
        *,
        tps: float = 3000,
        prefix: str = "chaos",
    ) -> None:
        self.workdir = workdir
        # Durable: a SIGKILLed server must keep every commit it acknowledged (a test server
        # without synchronous commits loses the last few hundred milliseconds of them).
        postgres = EmbeddedPostgres(workdir / "postgres" / "data")
        postgres.prepare()
        nats = EmbeddedNats(workdir / "nats")
        nats.prepare()
        self.postgres = Server(postgres.spec(), postgres_answers)
        self.nats = Server(nats.spec(), tcp_answers)
        self.postgres.start()
        self.nats.start()
        database_url = ensure_database(self.postgres.url, "kontor")
        migrate(database_url)
        self.settings = replace(
            base, database_url=database_url, nats_url=self.nats.url, nats_prefix=prefix
        )
        self.pipeline = Pipeline(self.settings, workdir / "pipeline", sim_args, tps=tps)
        self.harm = Harm()

    def start(self) -> None:
        self.pipeline.start_all()

    def close(self) -> None:
        self.pipeline.stop()
        self.nats.stop()
        self.postgres.stop()

    # -- harm ----------------------------------------------------------------------------------

    def kill_senders(self, names: tuple[str, ...] = ("carrier", "carrier-2")) -> None:
        for name in names:
            self.pipeline.kill(name)
            self.harm.sender_kills += 1

    def restart(self, name: str) -> None:
        self.pipeline.kill(name)
        self.pipeline.start(name)

    def submits(self) -> int:
        return self.pipeline.record.count_submits()

    def wait_for_submits(self, at_least: int, timeout: float = 120) -> None:
        """Until the carrier has ``at_least`` submits (the harm then meets work in flight)."""
        deadline = time.monotonic() + timeout
        while self.submits() < at_least and time.monotonic() < deadline:
            time.sleep(0.05)

    # -- a campaign ----------------------------------------------------------------------------

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.settings.admin_api_key}"}

    def customer(self, client: httpx.Client, credit: int = 100_000_000) -> dict[str, str]:
        body = registration(f"eva{secrets.token_hex(4)}")
        account = _json(client.post("/v1/accounts", json=body), 201)
        _json(
            client.post(
                f"/v1/admin/accounts/{account['account_id']}/topups",
                json={"net": credit, "method": "bank_transfer", "reference": secrets.token_hex(6)},
                headers=self.admin(),
            ),
            201,
        )
        return {"Authorization": f"Bearer {account['api_key']}"}

    def campaign(self, client: httpx.Client, key: dict[str, str], numbers: list[str]) -> str:
        body = {
            "text": "Hallo {name}, Ihr Angebot wartet.",
            "sender": "Shop",
            "name": "chaos",
            "recipients": [{"number": n, "fields": {"name": "Kim"}} for n in numbers],
        }
        return str(_json(client.post("/v1/campaigns", json=body, headers=key), 202)["campaign_id"])

    def wait_done(
        self, client: httpx.Client, key: dict[str, str], campaign_id: str, timeout: float
    ) -> dict[str, Any] | None:
        deadline = time.monotonic() + timeout
        last: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            self.pipeline.revive()  # what kontor up's supervisor does for a crashed child
            try:
                response = client.get(f"/v1/campaigns/{campaign_id}", headers=key)
            except httpx.HTTPError:
                time.sleep(0.5)
                continue
            if response.status_code == 200:
                last = response.json()
                finished = sum(n for s, n in last["counts"].items() if s in FINAL)
                if last["state"] == "completed" and finished == last["recipients"]:
                    return last
            time.sleep(0.5)
        return last

    # -- figures -------------------------------------------------------------------------------

    def figures(
        self,
        name: str,
        numbers: list[str],
        campaign_id: str,
        final: dict[str, Any] | None,
        started: float,
    ) -> Figures:
        rows = self.pipeline.record.submits()
        by_handset: dict[str, list[Any]] = {}
        for row in rows:
            by_handset.setdefault(row.destination_addr, []).append(row)
        repeated = sum(len(r) - len({x.payload_hex for x in r}) for r in by_handset.values())
        twice = [h for h, r in by_handset.items() if len(r) > len({x.payload_hex for x in r})]
        with psycopg.connect(str(self.settings.database_url)) as conn:
            messages = conn.execute(
                "SELECT idx, state, price, uncertain, attempts FROM msg_messages"
                " WHERE send_id = %s",
                (campaign_id,),
            ).fetchall()
            known = {
                row[0]
                for row in conn.execute(
                    "SELECT carrier_id FROM carrier_ids WHERE send_id = %s", (campaign_id,)
                ).fetchall()
            }
        uncertain_handsets = {numbers[m[0]].lstrip("+") for m in messages if m[3]}
        over_flagged = sum(
            1
            for idx, _, _, flag, attempts in messages
            if flag and attempts >= 2 and len(by_handset.get(numbers[idx].lstrip("+"), [])) == 1
        )
        unrecorded = sum(
            len(by_handset[h]) - len({x.payload_hex for x in by_handset[h]})
            for h in twice
            if h not in uncertain_handsets
        )
        in_doubt = len(
            {r.destination_addr for r in rows if canonical_message_id(r.message_id) not in known}
        )
        captured = sum(m[2] for m in messages if m[1] in ("delivered", "failed"))
        lost = len(numbers) - sum(1 for m in messages if m[1] in FINAL)
        return Figures(
            experiment=name,
            messages=len(numbers),
            submits=len(rows),
            repeated_submits=repeated,
            handsets_twice=len(twice),
            uncertain=len(uncertain_handsets),
            unrecorded_repeats=unrecorded,
            in_doubt=in_doubt,
            over_flagged=over_flagged,
            lost=lost,
            charged=int(final["cost_so_far"]) if final else -1,
            captured_prices=captured,
            trial_balance_balanced=self._balanced(),
            sender_kills=self.harm.sender_kills,
            seconds=round(time.monotonic() - started, 1),
        )

    def _balanced(self) -> bool:
        finance = {"Authorization": f"Bearer {self.settings.finance_api_key}"}
        with self.pipeline.client() as client:
            for _ in range(120):
                trial = client.get("/v1/finance/trial-balance", headers=finance)
                if trial.status_code == 200 and trial.json()["balanced"]:
                    return True
                time.sleep(0.5)
        return False


def _json(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text}")
    body: dict[str, Any] = response.json()
    return body


Harmful = Callable[[ChaosStack, int], None]
"""Does the experiment's harm while a campaign of n messages runs."""


def numbers_for(n: int) -> list[str]:
    return [f"+49151{i:08d}" for i in range(n)]


def run_experiment(
    name: str,
    workdir: Path,
    base: Settings,
    *,
    messages: int,
    harm: Harmful,
    sim_args: list[str] | None = None,
    tps: float = 3000,
    timeout: float = 600,
    seed: int = 0,
) -> Figures:
    """One campaign of ``messages`` through a fresh stack while ``harm`` is done to it."""
    stack = ChaosStack(workdir, base, sim_args or [], tps=tps, prefix=f"chaos{seed}")
    kept = True  # the logs of a run that went wrong stay for whoever looks into it
    try:
        stack.start()
        started = time.monotonic()
        numbers = numbers_for(messages)
        with stack.pipeline.client() as client:
            key = stack.customer(client)
            campaign_id = stack.campaign(client, key, numbers)
            harm(stack, messages)
            final = stack.wait_done(client, key, campaign_id, timeout)
        figures = stack.figures(name, numbers, campaign_id, final, started)
        kept = final is None or figures.lost > 0 or figures.unrecorded_repeats > 0
        return figures
    finally:
        stack.close()
        if not kept:
            shutil.rmtree(workdir, ignore_errors=True)


# -- the harms of the exactly-once issue's experiments ---------------------------------------------


def no_harm(stack: ChaosStack, n: int) -> None:
    """Slow answers, disconnects, unanswered submits: the simulator's arguments do it."""


def postgres_down(sig: int) -> Harmful:
    def harm(stack: ChaosStack, n: int) -> None:
        stack.wait_for_submits(n // 4)
        stack.postgres.stop(sig)
        time.sleep(2.0)
        stack.postgres.start()
        stack.harm.notes.append(f"postgres stopped with {signal.Signals(sig).name}")

    return harm


def nats_killed(stack: ChaosStack, n: int) -> None:
    stack.wait_for_submits(n // 4)
    stack.nats.stop(signal.SIGKILL)
    time.sleep(1.0)
    stack.nats.start()


def senders_killed(kills: int) -> Harmful:
    def harm(stack: ChaosStack, n: int) -> None:
        for round_ in range(kills):
            stack.wait_for_submits(n * (round_ + 1) // (kills + 2))
            stack.kill_senders(("carrier",) if round_ % 2 else ("carrier-2",))
            time.sleep(0.3)
            stack.pipeline.revive()

    return harm


def workers_killed(stack: ChaosStack, n: int) -> None:
    """Every other worker of the send path, one after the other, mid-campaign."""
    victims = ("relay", "dispatcher", "ingest", "settlement", "expander", "projections")
    for round_, victim in enumerate(victims):
        stack.wait_for_submits(n * (round_ + 1) // (len(victims) + 2))
        stack.restart(victim)


EXPERIMENTS: dict[str, tuple[list[str], Harmful]] = {
    "slow answers (1.0-1.5 s)": (["--response-delay", "1.0,1.5"], no_harm),
    "postgres fast shutdown": ([], postgres_down(signal.SIGINT)),
    "postgres killed": ([], postgres_down(signal.SIGKILL)),
    "carrier senders killed": ([], senders_killed(4)),
    "disconnects": (["--scenario", "disconnect"], no_harm),
    "no response (1 %)": (["--scenario", "no-response"], no_harm),
    "nats killed": ([], nats_killed),
    "other workers killed": ([], workers_killed),
    "throttling": (["--throttle-tps", "400"], no_harm),
    "receipts before answers": (["--dlr-before-response", "0.5"], no_harm),
}
"""Each experiment of the exactly-once issue's table that runs on a ``Pipeline`` (stopping
``kontor up`` itself is the supervisor's e2e test's), by name: simulator arguments and harm."""
