"""The Accounts context's errors: each class states the rule it guards."""

from __future__ import annotations


class AccountError(Exception):
    """Base of every account rule violation."""


class InvalidRegistrationError(AccountError):
    """A registration needs a username of 3-40 letters, digits, dot, dash or underscore, a
    contact e-mail address, and a company name (companies) or a person's name (persons)."""


class UsernameTakenError(AccountError):
    """Usernames are unique across all accounts (case-insensitive)."""

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"username {username!r} is already taken")


class AccountNotActiveError(AccountError):
    """Only an active account may send; a blocked or cancelled one may not."""

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(f"the account is {state}")


class InvalidLimitError(AccountError):
    """Send limits are positive SMS-part counts; a customer may only lower them below the
    ceiling the operator set, and a small-volume contract never allows more than 1,000 parts
    a month."""


class InvalidContractError(AccountError):
    """Contract terms must fit their type: postpaid has a minimum term, small-volume a base
    fee and the 1,000-parts monthly cap, prepaid neither."""


class ApiKeyNotFoundError(AccountError):
    """An API key can only be revoked by the account it belongs to."""


class SenderBlockedError(AccountError):
    """A sender ID an operator blocked for this account may not be used."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        super().__init__(f"sender ID {sender!r} is blocked for this account")


class SenderNotYoursError(AccountError):
    """A numeric sender ID that is another account's dedicated inbound number."""

    def __init__(self, sender: str) -> None:
        self.sender = sender
        super().__init__(f"sender ID {sender!r} is another account's dedicated number")


class RegistrationLimitError(AccountError):
    """A client address may register at most the configured number of accounts an hour (the
    limit is kept in PostgreSQL, so it holds across API processes and restarts)."""

    def __init__(self, limit: int, retry_after: int) -> None:
        self.limit = limit
        self.retry_after = retry_after
        super().__init__(
            f"at most {limit} registrations an hour from one address; try again in {retry_after} s"
        )


class LastApiKeyError(AccountError):
    """An account keeps at least one live API key: the last one is not revoked (issue another
    key first), since without one nobody could act for the account again."""

    def __init__(self, key_id: object) -> None:
        self.key_id = key_id
        super().__init__(
            f"API key {key_id} is the account's last live key; issue another key before revoking it"
        )


class EmailTakenError(AccountError):
    """An e-mail address belongs to one user (case-insensitive): it is how a person proves who
    they are when they reset their password."""

    def __init__(self) -> None:
        super().__init__("this e-mail address is already registered")


class InvalidRoleError(AccountError):
    """A customer's user or API key has an account role (owner, sender, finance, viewer); a
    staff user a staff role (operator, support, finance)."""


class UserRemovedError(AccountError):
    """A removed user never signs in or changes anything again."""

    def __init__(self, user_id: object) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id} has been removed")


class UserNotFoundError(AccountError):
    """A user is reached only by its own account (or by staff)."""


class TwoFactorError(AccountError):
    """Two-factor sign-in is set up with a code from the new secret; it is turned off with a
    current code (or a recovery code)."""
