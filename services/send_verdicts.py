"""The verdicts a send gives, shared by the send (``services.acceptance``) and its preview
(``POST /v1/messages/preview``), so that a preview never accepts what the send then refuses.

For the request: the account must be active (``AccountNotActiveError``) and the sender ID not
blocked for it (``SenderBlockedError``). For each recipient the preview engine's own refusal
(number, text, destination, price) comes first; then a number on the account's opt-out list is
skipped as ``opted_out``, and a number given again as ``repeated`` (unless repeats are kept).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from domain.accounts.account import Account
from domain.accounts.application import Accounts
from domain.accounts.exceptions import SenderBlockedError, SenderNotYoursError
from domain.money import vat_on
from domain.pricing.preview import Preview, RecipientPreview
from domain.pricing.quote import QuoteTotals
from domain.text.sender import SenderId, SenderKind
from services.ports import Keys, OptOuts


@dataclass(frozen=True)
class SkippedRecipient:
    position: int
    reason: str
    detail: str


OPTED_OUT_DETAIL = "the number opted out"


class SendVerdicts:
    def __init__(
        self,
        accounts: Accounts,
        keys: Keys,
        opt_outs: OptOuts,
        held: Callable[[str], UUID | None] | None = None,
    ) -> None:
        self.accounts = accounts
        self.keys = keys
        self.opt_outs = opt_outs
        self.held = held
        """Who holds a dedicated inbound number (``services.inbound_numbers.HeldNumbers``)."""

    def check_request(self, account_id: UUID, sender: str | None) -> Account:
        """The account, if it may send from ``sender``."""
        return self.check(self.accounts.account(account_id), sender)

    def check(self, account: Account, sender: str | None) -> Account:
        """``account``, if it may send from ``sender`` (not blocked for it, and no dedicated
        inbound number another account holds)."""
        account.ensure_active()
        if sender is not None:
            parsed = SenderId.parse(sender)
            if account.is_sender_blocked(parsed.value):
                raise SenderBlockedError(parsed.value)
            if parsed.kind is SenderKind.NUMERIC and self.held is not None:
                holder = self.held(parsed.value.removeprefix("00"))
                if holder is not None and holder != account.id:
                    raise SenderNotYoursError(parsed.value)
        return account

    def number_hashes(self, account_id: UUID, previews: Sequence[RecipientPreview]) -> list[str]:
        """Each sendable recipient's keyed number hash ("" for those the engine refused)."""
        digest = self.keys.lookup_hasher(account_id)
        return [digest(p.to_e164).hex() if p.error is None and p.to_e164 else "" for p in previews]

    def skipped(
        self,
        account_id: UUID,
        previews: Sequence[RecipientPreview],
        hashes: Sequence[str],
        *,
        keep_repeats: bool,
        opted_out: Collection[str] | None = None,
    ) -> list[SkippedRecipient | None]:
        """Per recipient why the send skips it, or None if it is sent to. ``opted_out``: the
        opted-out hashes among ``hashes``, if the caller looked them up already."""
        if opted_out is None:
            opted_out = self.opt_outs.suppressed(account_id, [h for h in hashes if h])
        first_at: dict[str, int] = {}
        verdicts: list[SkippedRecipient | None] = []
        for position, (preview, number_hash) in enumerate(zip(previews, hashes, strict=True)):
            if preview.error is not None:
                code = preview.error_code or "refused"
                verdicts.append(SkippedRecipient(position, code, preview.error))
            elif number_hash in opted_out:
                verdicts.append(SkippedRecipient(position, "opted_out", OPTED_OUT_DETAIL))
            elif (first := first_at.setdefault(number_hash, position)) != position and not (
                keep_repeats
            ):
                detail = f"the same number as recipient {first} of this send"
                verdicts.append(SkippedRecipient(position, "repeated", detail))
            else:
                verdicts.append(None)
        return verdicts

    def screen_preview(
        self, account_id: UUID, preview: Preview, sender: str | None, *, keep_repeats: bool
    ) -> Preview:
        """The preview with the send's verdicts: request-level refusals raise as the send's
        do, skipped recipients carry the send's reason and leave the totals."""
        self.check_request(account_id, sender)
        rows = preview.recipients
        verdicts = self.skipped(
            account_id, rows, self.number_hashes(account_id, rows), keep_repeats=keep_repeats
        )
        screened = [
            row._replace(price=None, error=verdict.detail, error_code=verdict.reason)
            if verdict is not None and row.error is None
            else row
            for row, verdict in zip(rows, verdicts, strict=True)
        ]
        sendable = [r for r in screened if r.error is None]
        net = sum(r.price or 0 for r in sendable)
        vat = vat_on(net)
        totals = QuoteTotals(net, vat, net + vat, sum(r.segments or 0 for r in sendable))
        return replace(
            preview,
            recipients=screened,
            totals=totals,
            recipients_ok=len(sendable),
            recipients_failed=len(screened) - len(sendable),
        )
