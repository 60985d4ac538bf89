"""Running import jobs: claim, import in one transaction, finish or fail, record for audit.

``run_next`` is what the ``imports`` worker calls in its loop (and the benchmark and tests call
directly): it claims the oldest queued job, imports it with a heartbeat thread reporting
progress, and records the outcome in the Contacts audit trail. A file that cannot be imported
(``ImportFileError``: no number column, too many rows, malformed) fails the job for good; an
unexpected error puts it back in the queue up to ``jobs.MAX_ATTEMPTS`` times. Outcomes that were
committed but not yet recorded (a crash in between) are recorded by ``record_outcomes``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from psycopg_pool import ConnectionPool

from adapters.contacts import jobs
from adapters.contacts.importer import ImportCounts, Progress, import_file
from adapters.contacts.parallel import RowPool
from adapters.contacts.sealing import AccountSeal
from adapters.crypto.keyring import Keyring
from domain.contacts.application import Contacts
from domain.contacts.exceptions import ImportFileError, ListNotFoundError
from domain.contacts.numbers import NumberNormaliser

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0


@dataclass
class ImportRunner:
    pool: ConnectionPool[Any]
    keyring: Keyring
    contacts: Contacts
    normaliser: NumberNormaliser
    row_pool: RowPool | None = None
    """Processes that normalise big files (``None``: all in this process)."""

    def run_next(self) -> jobs.Claim | None:
        """Claim and run one job; ``None`` when the queue is empty."""
        claim = jobs.claim_next(self.pool)
        if claim is None:
            return None
        self.run(claim)
        self.record_outcomes()
        return claim

    def run(self, claim: jobs.Claim, progress: Progress | None = None) -> ImportCounts | None:
        seal = AccountSeal(self.keyring, claim.account_id)
        progress = progress or Progress()
        try:
            with (
                _Heartbeat(self.pool, claim, progress),
                self.pool.connection() as conn,
                conn.transaction(),
            ):
                data = jobs.load_file(conn, seal, claim.job_id)
                counts = import_file(
                    conn,
                    seal,
                    self.normaliser,
                    list_id=claim.list_id,
                    job_id=claim.job_id,
                    data=data,
                    progress=progress,
                    row_pool=self.row_pool,
                )
                jobs.finish(
                    conn,
                    claim,
                    rows_read=counts.rows,
                    imported=counts.imported,
                    merged=counts.merged,
                    rejected=counts.rejected,
                    chars_total=progress.chars_total,
                    encoding=progress.encoding,
                    delimiter=progress.delimiter,
                )
        except ImportFileError as exc:
            log.info("import failed", extra={"job": str(claim.job_id), "reason": exc.code})
            jobs.fail(self.pool, claim, exc.code, str(exc))
            return None
        except jobs.LostClaimError:
            log.warning("import claimed by another worker", extra={"job": str(claim.job_id)})
            return None
        except Exception:
            log.exception("import crashed", extra={"job": str(claim.job_id)})
            if claim.attempts >= jobs.MAX_ATTEMPTS:
                jobs.fail(self.pool, claim, "internal", "the import failed; please try again")
            else:
                jobs.requeue(self.pool, claim)
            return None
        log.info(
            "import done",
            extra={"job": str(claim.job_id), "rows": counts.rows, "seconds": progress.phases},
        )
        return counts

    def record_outcomes(self) -> int:
        """Record finished jobs in the audit trail (again after a crash: recording is
        idempotent per job)."""
        recorded = 0
        for job in jobs.unrecorded(self.pool):
            try:
                if job.state == "done":
                    self.contacts.record_import(
                        job.list_id,
                        job.id,
                        job.actor,
                        imported=job.imported,
                        merged=job.merged,
                        rejected=job.rejected,
                    )
                else:
                    self.contacts.record_failed_import(
                        job.list_id, job.id, job.actor, job.error_code or "failed"
                    )
            except ListNotFoundError:
                log.warning("import of a list without history", extra={"job": str(job.id)})
            jobs.mark_recorded(self.pool, job.id)
            recorded += 1
        return recorded


class _Heartbeat:
    """Reports progress (and so keeps the claim alive) every second from its own thread."""

    def __init__(self, pool: ConnectionPool[Any], claim: jobs.Claim, progress: Progress) -> None:
        self._pool, self._claim, self._progress = pool, claim, progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="import-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_SECONDS):
            progress = self._progress
            try:
                jobs.report_progress(
                    self._pool,
                    self._claim,
                    rows_read=progress.rows_read,
                    chars_read=progress.chars_read,
                    chars_total=progress.chars_total or None,
                    encoding=progress.encoding,
                    delimiter=progress.delimiter,
                )
            except Exception:
                log.exception("import heartbeat failed")
