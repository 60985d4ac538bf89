"""The one error mapper: every error leaves the API as an RFC 9457 problem details document.

Domain errors are mapped by class (``PROBLEM_TYPES``); Litestar's own HTTP errors (404, 405,
validation) keep their status and get a ``type``; anything unexpected becomes a 500 whose body
names no internals (the log has the traceback, under the same ``instance`` id).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE
from litestar.utils.scope.state import ScopeState

from adapters.crypto.passwords import WeakPasswordError
from api.availability import DatabaseGate, is_database_error, unavailable_problem
from domain.accounts import exceptions as accounts
from domain.accounts.callbacks import InvalidCallbackError
from domain.accounts.team import InvitationClosedError, LastOwnerError
from domain.contacts import exceptions as contacts
from domain.inbound.numbers import InboundNumberError, NumberTakenError
from domain.inbound.stop import InvalidStopWordError
from domain.ledger import exceptions as ledger
from domain.messaging import exceptions as messaging
from domain.messaging.list_acceptance import Refusal
from domain.phone.exceptions import InvalidPhoneNumberError, PhoneError
from domain.pricing.exceptions import NoPriceError, NoPriceListError
from domain.text.exceptions import (
    InvalidSenderError,
    TemplateSyntaxError,
    TextError,
    TextTooLongError,
    UnknownFieldError,
)
from domain.text.segments import MAX_CHARACTERS
from domain.text.template import Template
from services.inbound_numbers import ModuleLockedError
from services.password_reset import ResetTokenInvalidError
from services.signin import (
    SignInRefusedError,
    SignInThrottledError,
    TwoFactorRefusedError,
    TwoFactorRequiredError,
)
from services.team import InvitationLimitError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://kontor.dev/problems/"


@dataclass(frozen=True)
class ProblemSpec:
    status: int
    slug: str
    title: str
    extra: Callable[[Any], dict[str, Any]] | None = None
    headers: Callable[[Any], dict[str, str]] | None = None
    detail: str | None = None
    """A fixed detail instead of the error's message (for errors of libraries, whose messages
    name internals such as ``Aggregate UUID('...') version None not found``)."""


def _shortfall(exc: Any) -> dict[str, Any]:
    return {k: getattr(exc, k) for k in ("required", "available", "shortfall") if hasattr(exc, k)}


def _limit(exc: Any) -> dict[str, Any]:
    return {
        "period": exc.period,
        "limit": exc.limit,
        "used": exc.used,
        "requested": exc.requested,
        "shortfall": exc.shortfall,
    }


def _attributes(*names: str) -> Callable[[Any], dict[str, Any]]:
    """Extra problem members copied from the error's attributes of these names."""
    return lambda exc: {name: getattr(exc, name) for name in names}


# Domain error class -> problem type. Subclasses inherit their nearest ancestor's entry.
PROBLEM_TYPES: dict[type[Exception], ProblemSpec] = {
    AggregateNotFoundError: ProblemSpec(
        404, "not-found", "Not found", detail="nothing with this id is visible to the caller"
    ),
    ledger.InsufficientCreditError: ProblemSpec(
        402, "insufficient-credit", "Insufficient credit", _shortfall
    ),
    ledger.SendLimitExceededError: ProblemSpec(
        402, "send-limit-exceeded", "Send limit exceeded", _limit
    ),
    ledger.InvalidAmountError: ProblemSpec(422, "invalid-amount", "Invalid amount"),
    ledger.InvalidAdjustmentError: ProblemSpec(422, "invalid-adjustment", "Invalid adjustment"),
    ledger.InvalidAutoRechargeError: ProblemSpec(
        422, "invalid-auto-recharge", "Invalid auto-recharge"
    ),
    ledger.ReservationNotFoundError: ProblemSpec(404, "not-found", "Not found"),
    ledger.UnknownMessageIndexError: ProblemSpec(422, "unknown-message", "Unknown message"),
    ledger.ReservationClosedError: ProblemSpec(409, "reservation-closed", "Reservation closed"),
    ledger.ReservationOverdrawnError: ProblemSpec(
        409, "reservation-overdrawn", "Reservation overdrawn"
    ),
    ledger.ReservationMismatchError: ProblemSpec(
        409, "reservation-mismatch", "Reservation mismatch"
    ),
    ledger.AdjustmentReferenceReusedError: ProblemSpec(
        409,
        "adjustment-reference-reused",
        "Reference already used with another amount",
        _attributes("reference", "recorded", "requested"),
    ),
    ledger.AsOfInFutureError: ProblemSpec(
        422, "as-of-in-future", "No figures as of a future moment", _attributes("as_of", "now")
    ),
    ledger.CreditExpiresBeforeScheduleError: ProblemSpec(
        422,
        "schedule-beyond-credit",
        "The credit expires before the scheduled time",
        _attributes("send_at", "required", "valid_then"),
    ),
    ledger.NoExpiredCreditError: ProblemSpec(409, "no-expired-credit", "No expired credit"),
    ledger.PaymentReferenceReusedError: ProblemSpec(
        409, "payment-reference-reused", "Payment reference already used"
    ),
    accounts.InvalidRegistrationError: ProblemSpec(
        422, "invalid-registration", "Invalid registration"
    ),
    accounts.UsernameTakenError: ProblemSpec(409, "username-taken", "Username taken"),
    accounts.RegistrationLimitError: ProblemSpec(
        429,
        "registration-limit",
        "Too many registrations from this address",
        _attributes("limit", "retry_after"),
        lambda e: {"Retry-After": str(e.retry_after)},
    ),
    accounts.AccountNotActiveError: ProblemSpec(
        403, "account-not-active", "Account not active", lambda e: {"state": e.state}
    ),
    accounts.InvalidLimitError: ProblemSpec(422, "invalid-limit", "Invalid limit"),
    accounts.InvalidContractError: ProblemSpec(422, "invalid-contract", "Invalid contract"),
    accounts.ApiKeyNotFoundError: ProblemSpec(404, "api-key-not-found", "API key not found"),
    accounts.LastApiKeyError: ProblemSpec(
        409, "last-api-key", "The account's last API key cannot be revoked"
    ),
    accounts.EmailTakenError: ProblemSpec(409, "email-taken", "E-mail address taken"),
    LastOwnerError: ProblemSpec(409, "last-owner", "The account's last owner"),
    InvitationClosedError: ProblemSpec(400, "invitation-closed", "Invitation not valid"),
    InvitationLimitError: ProblemSpec(
        429,
        "invitation-limit",
        "Too many invitations",
        _attributes("retry_after"),
        lambda e: {"Retry-After": str(e.retry_after)},
    ),
    accounts.InvalidRoleError: ProblemSpec(422, "invalid-role", "Invalid role"),
    accounts.UserNotFoundError: ProblemSpec(404, "user-not-found", "User not found"),
    accounts.UserRemovedError: ProblemSpec(409, "user-removed", "User removed"),
    WeakPasswordError: ProblemSpec(422, "weak-password", "Password not allowed"),
    SignInRefusedError: ProblemSpec(401, "sign-in-refused", "Sign-in refused"),
    TwoFactorRequiredError: ProblemSpec(401, "two-factor-required", "Two-factor code needed"),
    TwoFactorRefusedError: ProblemSpec(401, "two-factor-refused", "Two-factor code refused"),
    accounts.TwoFactorError: ProblemSpec(409, "two-factor", "Two-factor sign-in"),
    ResetTokenInvalidError: ProblemSpec(400, "reset-token-invalid", "Reset link not valid"),
    SignInThrottledError: ProblemSpec(
        429,
        "sign-in-throttled",
        "Too many failed sign-ins",
        _attributes("retry_after"),
        lambda e: {"Retry-After": str(e.retry_after)},
    ),
    InvalidStopWordError: ProblemSpec(422, "invalid-stop-word", "Invalid STOP word"),
    InvalidCallbackError: ProblemSpec(422, "invalid-callback", "Invalid callback"),
    accounts.SenderBlockedError: ProblemSpec(
        422, "sender-blocked", "Sender ID blocked", lambda e: {"sender": e.sender}
    ),
    accounts.SenderNotYoursError: ProblemSpec(
        422, "sender-not-yours", "Sender ID is another account's", lambda e: {"sender": e.sender}
    ),
    ModuleLockedError: ProblemSpec(409, "module-locked", "Module not unlocked"),
    NumberTakenError: ProblemSpec(409, "number-taken", "Number assigned to another account"),
    InboundNumberError: ProblemSpec(422, "invalid-inbound-number", "Invalid inbound number"),
    messaging.IdempotencyConflictError: ProblemSpec(
        422,
        "idempotency-key-reused",
        "Idempotency-Key reused with another request",
        _attributes("key"),
    ),
    messaging.SendNotFoundError: ProblemSpec(404, "not-found", "Not found"),
    messaging.SendNotCancellableError: ProblemSpec(
        409, "not-cancellable", "The send cannot be cancelled", _attributes("state")
    ),
    messaging.NothingToCancelError: ProblemSpec(
        409,
        "nothing-to-cancel",
        "Every message of the send has gone already",
        _attributes("sent", "in_flight", "rejected"),
    ),
    messaging.NotAwaitingReviewError: ProblemSpec(
        409, "not-awaiting-review", "The send is not awaiting review", _attributes("state")
    ),
    messaging.SendExpiredError: ProblemSpec(
        409, "send-expired", "The send's validity period has passed", _attributes("expired_at")
    ),
    messaging.ScheduleInPastError: ProblemSpec(
        422,
        "schedule-in-past",
        "The scheduled time is in the past",
        _attributes("send_at", "now", "grace_seconds"),
    ),
    messaging.ScheduleTooFarError: ProblemSpec(
        422,
        "schedule-too-far",
        "The scheduled time is too far ahead",
        _attributes("send_at", "latest"),
    ),
    messaging.TooManyRecipientsError: ProblemSpec(
        422, "too-many-recipients", "Too many recipients", _attributes("count", "limit")
    ),
    messaging.NoRecipientsError: ProblemSpec(
        422, "no-recipients", "No recipient can be sent to", _attributes("skipped")
    ),
    # message text, recipients and prices (domain.text, domain.phone, domain.pricing)
    TextTooLongError: ProblemSpec(
        422, "text-too-long", "The message text is too long", _attributes("characters", "limit")
    ),
    TemplateSyntaxError: ProblemSpec(
        422, "template-syntax", "The message template is not valid", _attributes("position")
    ),
    UnknownFieldError: ProblemSpec(
        422, "unknown-field", "A placeholder has no value", _attributes("field")
    ),
    InvalidSenderError: ProblemSpec(
        422,
        "invalid-sender",
        "The sender ID is not valid",
        _attributes("character", "position", "length"),
    ),
    TextError: ProblemSpec(422, "text", "The message text cannot be sent"),
    InvalidPhoneNumberError: ProblemSpec(
        422, "invalid-number", "The phone number is not valid", _attributes("reason", "region")
    ),
    PhoneError: ProblemSpec(422, "recipient", "The recipient cannot be sent to"),
    NoPriceListError: ProblemSpec(503, "no-price-list", "No price list is in force"),
    NoPriceError: ProblemSpec(422, "no-price", "The destination is not offered"),
    # recipient lists, imports, opt-outs, erasure (domain.contacts)
    contacts.ListNotFoundError: ProblemSpec(404, "list-not-found", "List not found"),
    contacts.RecipientNotFoundError: ProblemSpec(404, "recipient-not-found", "Recipient not found"),
    contacts.ImportNotFoundError: ProblemSpec(404, "import-not-found", "Import not found"),
    contacts.OptOutNotFoundError: ProblemSpec(404, "opt-out-not-found", "Not on the opt-out list"),
    contacts.InvalidListNameError: ProblemSpec(422, "invalid-list-name", "Invalid list name"),
    contacts.ListImportingError: ProblemSpec(409, "list-importing", "The list is being imported"),
    contacts.DuplicateRecipientError: ProblemSpec(
        409,
        "duplicate-recipient",
        "The number is already in the list",
        _attributes("recipient_id"),
    ),
    contacts.InvalidFieldError: ProblemSpec(422, "invalid-field", "Invalid field"),
    contacts.TooManyRecipientsError: ProblemSpec(
        413,
        "too-many-recipients",
        "Too many recipients in one request",
        _attributes("count", "limit"),
    ),
    contacts.EmptyUploadError: ProblemSpec(422, "empty-file", "The file is empty"),
    contacts.UploadTooLargeError: ProblemSpec(
        413, "file-too-large", "The file is too large", _attributes("limit")
    ),
    contacts.UnsupportedFileTypeError: ProblemSpec(
        415, "unsupported-file-type", "The file is not CSV or TXT"
    ),
    contacts.OptOutWithdrawalError: ProblemSpec(
        422, "opt-out-withdrawal", "An opt-out is withdrawn only with a reason"
    ),
}


class ProblemError(Exception):
    """Raised by controllers for a request-level problem that no domain error covers."""

    def __init__(self, status: int, slug: str, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extra = extra


REFUSALS: tuple[type[Exception], ...] = (*PROBLEM_TYPES, ProblemError)
"""The errors the platform answers as problems of their own (a page catches these alone)."""


def problem_response(
    request: Request[Any, Any, Any],
    *,
    status: int,
    slug: str,
    title: str,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def refusal_problem(refusal: Refusal, instance: str) -> dict[str, Any]:
    """The problem document of a refusal met in the background (a list campaign's): the one
    the same error gets as a request's answer."""
    spec = next((s for k, s in PROBLEM_TYPES.items() if k.__name__ == refusal.error), None)
    if spec is None:
        return {"type": PROBLEM_BASE + "refused", "title": "Refused", "status": 422,
                "instance": instance, "detail": refusal.detail}  # fmt: skip
    try:
        extra = spec.extra(SimpleNamespace(**refusal.attributes)) if spec.extra else {}
    except AttributeError:  # stored before the error had the attribute
        extra = {}
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + spec.slug,
        "title": spec.title,
        "status": spec.status,
        "instance": instance,
        "detail": spec.detail or refusal.detail,
    }
    return body | extra


def problem_spec(exc: Exception) -> ProblemSpec | None:
    """How an error is answered, when it is one of the platform's known refusals."""
    for klass in type(exc).__mro__:
        spec = PROBLEM_TYPES.get(klass)
        if spec is not None:
            return spec
    return None


def handle_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if is_database_error(exc):
        gate: DatabaseGate = request.app.state.database_gate
        wait = gate.failed()
        log.warning("database unavailable", extra={"path": request.url.path, "error": repr(exc)})
        return Response(
            unavailable_problem(request.url.path, wait),
            status_code=HTTP_503_SERVICE_UNAVAILABLE,
            media_type=PROBLEM_JSON,
            headers={"Retry-After": str(wait)},
        )
    known = _known_problem(request, exc)
    if known is not None:
        return known
    incident = str(uuid.uuid4())
    log.exception(
        "unhandled error",
        extra={"incident": incident, "method": request.method, "path": request.url.path},
    )
    return problem_response(
        request,
        status=HTTP_500_INTERNAL_SERVER_ERROR,
        slug="internal",
        title="Internal server error",
        detail=f"The error was logged as incident {incident}.",
        incident=incident,
    )


def _known_problem(  # noqa: PLR0911 - a return per kind of error
    request: Request[Any, Any, Any], exc: Exception
) -> Response[dict[str, Any]] | None:
    """The problem document of an error the API expects; None for anything unexpected (a 500,
    whose body never carries the error's text)."""
    if isinstance(exc, ProblemError):
        return problem_response(
            request,
            status=exc.status,
            slug=exc.slug,
            title=exc.title,
            detail=exc.detail,
            **exc.extra,
        )
    spec = problem_spec(exc)
    if spec is not None:
        extra = spec.extra(exc) if spec.extra else {}
        detail = spec.detail or str(exc)
        return problem_response(
            request,
            status=spec.status,
            slug=spec.slug,
            title=spec.title,
            detail=detail,
            headers=spec.headers(exc) if spec.headers else None,
            **extra,
        )
    if isinstance(exc, ValidationException):
        errors = [_readable(error) for error in exc.extra] if isinstance(exc.extra, list) else []
        if _text_too_long(request, errors):
            return _known_problem(request, TextTooLongError(_characters(request), MAX_CHARACTERS))
        # One rule for every value a request gives (body, query, path, header): a value the
        # schema refuses is a 422; a body that is not JSON at all is a 400 (api.requests).
        return problem_response(
            request,
            status=422,
            slug="validation",
            title="The request is not valid",
            detail=exc.detail,
            errors=errors,
        )
    if isinstance(exc, OverflowError):
        # A date or number at the edge of its range (a time zone or a period added to a date
        # near datetime.max): the request's value, never the server, is at fault.
        log.warning("value out of range", extra={"path": request.url.path})
        return problem_response(
            request,
            status=422,
            slug="out-of-range",
            title="A value is out of range",
            detail="a date or number of the request is too large",
        )
    if isinstance(exc, HTTPException) and exc.status_code < HTTP_500_INTERNAL_SERVER_ERROR:
        # Litestar's own client errors (404, 405, 401, 403...): their texts are for the client.
        return problem_response(
            request,
            status=exc.status_code,
            slug=f"http-{exc.status_code}",
            title=exc.detail,
            headers=exc.headers,
        )
    return None


def _characters(request: Request[Any, Any, Any]) -> int:
    """The characters of the request's text as the composer counts them (placeholders left
    out): the body was decoded before validation refused it, so its JSON is at hand."""
    text = _body_text(request)
    if text is None:
        return MAX_CHARACTERS + 1
    try:
        return len(Template.compile(text).literal_text)
    except TextError:
        return len(text)


def _readable(error: Any) -> Any:
    """A validation error as the client wrote the request: ``from``, not the handler's
    parameter ``from_``; "contains a control character", not the pattern that found it."""
    if not isinstance(error, dict):
        return error
    error = dict(error)
    key = error.get("key")
    if isinstance(key, str) and key.endswith("_"):
        error["key"] = key.rstrip("_")
    message = str(error.get("message", ""))
    if "matching regex" in message:
        error["message"] = (
            "must not contain control characters (nor, but in a message text, tabs or line breaks)"
        )
    return error


def _text_too_long(request: Request[Any, Any, Any], errors: list[Any]) -> bool:
    """The message text over its limit has a problem type of its own (not a generic
    validation error): the same ``text-too-long`` the send and the preview answer. Told by
    the refused body itself (a ``text`` that is a string over the limit), not by the wording
    of the validator's message."""
    if not any(isinstance(error, dict) and error.get("key") == "text" for error in errors):
        return False
    text = _body_text(request)
    return text is not None and len(text) > MAX_CHARACTERS


def _body_text(request: Request[Any, Any, Any]) -> str | None:
    """The ``text`` of the request's JSON body (decoded before validation refused it)."""
    body = ScopeState.from_scope(request.scope).json
    text = body.get("text") if isinstance(body, dict) else None
    return text if isinstance(text, str) else None


EXCEPTION_HANDLERS: dict[type[Exception] | int, Callable[..., Response[Any]]] = {
    Exception: handle_exception,
}
