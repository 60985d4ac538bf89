"""The Contacts context's errors: each class states the rule it guards.

Messages name ids, counts and reasons, never a phone number, name or field value.
"""

from __future__ import annotations

from uuid import UUID


class ContactsError(Exception):
    """Base of every Contacts rule violation."""


class ListNotFoundError(ContactsError):
    """A list exists only for the account that owns it; any other account gets not-found."""

    def __init__(self, list_id: UUID) -> None:
        super().__init__(f"no list {list_id} on this account")
        self.list_id = list_id


class RecipientNotFoundError(ContactsError):
    """A recipient is found only in its own list, by the account that owns the list."""

    def __init__(self, recipient_id: int) -> None:
        super().__init__(f"no recipient {recipient_id} in this list")
        self.recipient_id = recipient_id


class ImportNotFoundError(ContactsError):
    """An import job is visible only to the account that uploaded it."""

    def __init__(self, job_id: UUID) -> None:
        super().__init__(f"no import {job_id} on this account")
        self.job_id = job_id


class OptOutNotFoundError(ContactsError):
    """Only a number that is on the account's opt-out list can be taken off it."""

    def __init__(self) -> None:
        super().__init__("this number is not on the account's opt-out list")


class InvalidListNameError(ContactsError):
    """A list name has 1 to 100 characters and is not only spaces."""


class ListImportingError(ContactsError):
    """While an import into a list is queued or running, the list accepts no other import, no
    change of its recipients and no deletion: the import's result must not depend on timing."""

    def __init__(self, list_id: UUID) -> None:
        super().__init__(f"list {list_id} is being imported into; try again when it is done")
        self.list_id = list_id


class DuplicateRecipientError(ContactsError):
    """A number is in a list at most once: changing a recipient's number to one the list
    already holds is refused (add or import merges instead)."""

    def __init__(self, recipient_id: int) -> None:
        super().__init__(f"the list already holds this number as recipient {recipient_id}")
        self.recipient_id = recipient_id


class InvalidFieldError(ContactsError):
    """A personalisation field has a name of 1 to 64 letters, digits, ``_`` or ``-`` (after
    normalisation), a value of at most 1,000 characters, and a recipient has at most 50."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooManyRecipientsError(ContactsError):
    """One request adds at most 10,000 recipients; larger sets go through a file import."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} recipients in one request; at most {limit} (import a file)")
        self.count = count
        self.limit = limit


class UploadError(ContactsError):
    """Base of the reasons an uploaded import file is refused before it is queued."""


class EmptyUploadError(UploadError):
    """An import file must contain at least one line that is not blank."""

    def __init__(self) -> None:
        super().__init__("the file is empty")


class UploadTooLargeError(UploadError):
    """An import file has at most 100 MB (104,857,600 bytes)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file is larger than {limit // (1024 * 1024)} MB")
        self.limit = limit


class UnsupportedFileTypeError(UploadError):
    """Imports read CSV (``.csv``) and plain text (``.txt``, one number a line); spreadsheets
    (``.xlsx``, ``.xls``, ``.ods``) and other binary files must be saved as CSV first."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)


class ImportFileError(ContactsError):
    """Base of the reasons a queued import fails as a whole (the list stays as it was)."""

    code = "unreadable"


class NoNumberColumnError(ImportFileError):
    """An import file needs a column of phone numbers: a header such as ``Rufnummer``,
    ``Handy``, ``Telefon``, ``Mobil`` or ``number``, or a column whose values are numbers."""

    code = "no_number_column"

    def __init__(self) -> None:
        super().__init__(
            "no column of phone numbers found: name it Rufnummer, Handy, Telefon or number"
        )


class TooManyRowsError(ImportFileError):
    """An import file has at most 2,000,000 data rows."""

    code = "too_many_rows"

    def __init__(self, limit: int) -> None:
        super().__init__(f"the file has more than {limit:,} rows")
        self.limit = limit


class NoRowsError(ImportFileError):
    """An import file must have at least one data row."""

    code = "no_rows"

    def __init__(self) -> None:
        super().__init__("the file has no data rows")


class OptOutWithdrawalError(ContactsError):
    """A number leaves the opt-out list only by an explicit, recorded withdrawal that names
    who asked and why (the reason is required)."""
