"""An operator's change to an account: state, tariff, contract, modules, blocked senders,
review threshold and limits, recorded in Accounts with the acting key; a new contract also
changes how the account's wallet bills (prepaid, postpaid, small volume) in the Ledger.

The two applications are two transactions: the account changes first, then the wallet. A crash
between them leaves the wallet on the old billing until the change is sent again (repeating it
changes nothing in Accounts and brings the wallet along).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from domain.accounts.account import Account, AccountState, Module
from domain.accounts.application import Accounts
from domain.accounts.contract import Contract, ContractType, Limits
from domain.ledger.application import Ledger
from domain.ledger.billing import BERLIN, Billing
from domain.tariff import Tariff

BILLING_OF_CONTRACT = {
    ContractType.PREPAID: Billing.PREPAID,
    ContractType.POSTPAID: Billing.POSTPAID,
    ContractType.SMALL_VOLUME: Billing.SMALL_VOLUME,
}


@dataclass(frozen=True)
class ContractTerms:
    type: ContractType
    starts_on: date | None
    """None: today (Europe/Berlin)."""
    daily_parts: int | None
    monthly_parts: int | None
    minimum_monthly_revenue: int
    minimum_term_months: int
    base_fee: int

    def contract(self, now: datetime) -> Contract:
        starts_on = self.starts_on or now.astimezone(BERLIN).date()
        if self.type is ContractType.PREPAID:
            return Contract.prepaid(starts_on)
        if self.type is ContractType.POSTPAID:
            return Contract.postpaid(
                starts_on,
                daily_parts=self.daily_parts,
                monthly_parts=self.monthly_parts,
                minimum_monthly_revenue=self.minimum_monthly_revenue,
                minimum_term_months=self.minimum_term_months,
            )
        return Contract.small_volume(
            starts_on, base_fee=self.base_fee, daily_parts=self.daily_parts
        )


@dataclass(frozen=True)
class AccountChange:
    """What to change (None: leave as it is)."""

    state: AccountState | None = None
    reason: str = ""
    tariff: Tariff | None = None
    contract: ContractTerms | None = None
    modules: frozenset[Module] | None = None
    blocked_senders: frozenset[str] | None = None
    review_threshold: int | None = None
    limits: Limits | None = None


class Administration:
    def __init__(self, accounts: Accounts, ledger: Ledger) -> None:
        self.accounts = accounts
        self.ledger = ledger

    def administer(
        self, account_id: UUID, change: AccountChange, actor: str, now: datetime
    ) -> Account:
        contract = change.contract.contract(now) if change.contract else None
        account = self.accounts.administer(
            account_id,
            actor=actor,
            state=change.state,
            reason=change.reason,
            tariff=change.tariff,
            contract=contract,
            modules=change.modules,
            blocked_senders=change.blocked_senders,
            review_threshold=change.review_threshold,
        )
        if change.limits is not None:
            account = self.accounts.change_limits(
                account_id, change.limits, actor, by_operator=True
            )
        if contract is not None:
            self.ledger.change_billing(account_id, BILLING_OF_CONTRACT[contract.type])
        return account
