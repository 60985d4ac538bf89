"""People over HTTP: registering an owner, signing in and out with the session cookie and its
CSRF token, and the role of every user and key on every endpoint (read off the route table, so
a new endpoint cannot be forgotten)."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import uuid4

import pyotp
import pytest
from litestar.routes import HTTPRoute

from adapters.crypto import apikeys
from adapters.crypto.passwords import FAST, Passwords
from adapters.postgres.mail_outbox import PostgresMailOutbox
from adapters.postgres.sessions import PostgresOneTimeTokens
from api.app import PUBLIC_PATHS
from api.auth import SAFE_METHODS, Principal, Rule
from domain.accounts.account import AccountKind
from domain.accounts.api_key import Role
from domain.accounts.contract import Contract
from domain.accounts.user import UserRole
from domain.tariff import Tariff
from kontor.samples import SAMPLE_PASSWORD, registration
from services.staff import StaffEnrolment
from tests.integration.api.edge_routes import concrete
from tests.support.api import PEPPER, ApiHarness
from workers.projections import messaging_runner

PROBLEM = "application/problem+json"


def sign_in(api: ApiHarness, login: str, password: str = SAMPLE_PASSWORD) -> Any:
    return api.client.post("/v1/sessions", json={"login": login, "password": password})


def test_the_owner_signs_in_by_name_email_or_number_and_out_again(api: ApiHarness) -> None:
    registered = api.client.post("/v1/accounts", json=registration("Lena.Kraus")).json()
    assert registered["account_number"].startswith("K-")
    for login in ("lena.kraus", "LENA.KRAUS@example.de", registered["account_number"]):
        api.client.cookies.clear()
        signed_in = sign_in(api, login)
        assert signed_in.status_code == 201, signed_in.text
        body = signed_in.json()
        assert body["user"] == {
            "user_id": registered["user_id"],
            "username": "Lena.Kraus",
            "role": "owner",
            "account_id": registered["account_id"],
        }
        cookie = signed_in.headers.get_list("set-cookie")
        session_cookie = next(c for c in cookie if c.startswith("kontor_session="))
        assert "HttpOnly" in session_cookie
        assert "SameSite=lax" in session_cookie
        assert "Path=/" in session_cookie
        assert "Secure" not in session_cookie  # served over plain HTTP here
        assert SAMPLE_PASSWORD not in signed_in.text
        account = api.client.get("/v1/account")
        assert account.status_code == 200
        assert account.json()["number"] == registered["account_number"]
    sessions = api.client.get("/v1/sessions").json()["items"]
    assert len(sessions) == 3
    assert [s["current"] for s in sessions].count(True) == 1
    csrf = body["csrf_token"]
    assert api.client.delete("/v1/sessions/current").status_code == 403  # no CSRF token
    assert (
        api.client.delete("/v1/sessions/current", headers={"X-CSRF-Token": csrf}).status_code == 204
    )
    assert api.client.get("/v1/account").status_code == 401


def test_a_state_change_by_cookie_needs_the_csrf_token(api: ApiHarness) -> None:
    api.client.post("/v1/accounts", json=registration("mia"))
    csrf = sign_in(api, "mia").json()["csrf_token"]
    missing = api.client.post("/v1/lists", json={"name": "Kunden"})
    assert missing.status_code == 403
    assert missing.headers["content-type"] == PROBLEM
    assert "CSRF" in missing.json()["detail"]
    wrong = api.client.post("/v1/lists", json={"name": "Kunden"}, headers={"X-CSRF-Token": "x"})
    assert wrong.status_code == 403
    made = api.client.post("/v1/lists", json={"name": "Kunden"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    assert api.client.get("/v1/lists").status_code == 200  # reads need none


def test_a_refused_sign_in_says_nothing_about_the_name(api: ApiHarness) -> None:
    api.client.post("/v1/accounts", json=registration("noah"))
    wrong = sign_in(api, "noah", "not-the-password")
    unknown = sign_in(api, "nobody-here", "not-the-password")
    for refused in (wrong, unknown):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
        assert "set-cookie" not in refused.headers
        assert "not-the-password" not in refused.text
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.json()["type"] == unknown.json()["type"]


def test_throttled_sign_ins_are_429_with_retry_after(api: ApiHarness) -> None:
    api.client.post("/v1/accounts", json=registration("olga"))
    for _ in range(3):
        assert sign_in(api, "olga", "not-the-password").status_code == 401
    throttled = sign_in(api, "olga")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "1"
    assert throttled.json()["retry_after"] == 1
    api.clock.advance(seconds=1)
    assert sign_in(api, "olga").status_code == 201


@pytest.mark.parametrize(
    ("change", "status", "problem"),
    [
        ({"password": "kurz"}, 422, "weak-password"),
        ({"password": "passwort123"}, 422, "weak-password"),
        ({"accepted_terms": "2020-01"}, 422, "invalid-registration"),
        ({"postcode": "ABCDE"}, 422, "invalid-registration"),
        ({"phone": "0000"}, 422, "invalid-registration"),
        ({"salutation": "sir"}, 422, "validation"),
        ({"first_name": ""}, 422, "validation"),
    ],
)
def test_a_bad_registration_is_a_problem_naming_it(
    api: ApiHarness, change: dict[str, str], status: int, problem: str
) -> None:
    refused = api.client.post("/v1/accounts", json=registration("paul") | change)
    assert refused.status_code == status, refused.text
    assert refused.headers["content-type"] == PROBLEM
    assert refused.json()["type"].endswith(problem)
    assert "kurz" not in refused.text
    assert api.client.post("/v1/accounts", json=registration("paul")).status_code == 201


def test_a_registered_email_in_another_case_is_a_409(api: ApiHarness) -> None:
    api.client.post("/v1/accounts", json=registration("quentin", email="q@example.de"))
    again = api.client.post("/v1/accounts", json=registration("quinn", email="Q@EXAMPLE.de"))
    assert again.status_code == 409
    assert again.json()["type"].endswith("/email-taken")


def test_keys_with_roles_reach_what_their_role_allows(api: ApiHarness) -> None:
    owner = api.register()
    keys = {}
    for role in ("sender", "finance", "viewer"):
        made = api.client.post("/v1/account/api-keys", json={"role": role}, headers=owner.headers)
        assert made.status_code == 201, made.text
        assert made.json()["role"] == role
        keys[role] = {"Authorization": f"Bearer {made.json()['api_key']}"}
    staff_role = api.client.post(
        "/v1/account/api-keys", json={"role": "operator"}, headers=owner.headers
    )
    assert staff_role.status_code == 422
    assert staff_role.json()["type"].endswith("/invalid-role")
    new_list = {"name": "Stammkunden"}
    assert api.client.post("/v1/lists", json=new_list, headers=keys["sender"]).status_code == 201
    assert api.client.post("/v1/lists", json=new_list, headers=keys["viewer"]).status_code == 403
    assert api.client.post("/v1/lists", json=new_list, headers=keys["finance"]).status_code == 403
    for role in ("sender", "finance", "viewer"):
        assert api.client.get("/v1/lists", headers=keys[role]).status_code == 200
        assert api.client.get("/v1/account/balance", headers=keys[role]).status_code == 200
        assert (
            api.client.post("/v1/account/api-keys", json={}, headers=keys[role]).status_code == 403
        )


# -- the role matrix -------------------------------------------------------------------------


def rules(handler: Any) -> list[Any]:
    """The access rules of a route handler's guards (controller's, router's and its own)."""
    guards = [getattr(g, "func", g) for g in handler.resolve_guards()]  # unwrap AsyncCallable
    return [g for g in guards if hasattr(g, "rule") or hasattr(g, "roles")]


def allowed(guards: list[Any], principal: Principal, method: str) -> bool:
    for guard in guards:
        rule: Rule | None = getattr(guard, "rule", None)
        if rule is not None and not rule.allows(principal, method):
            return False
        roles = getattr(guard, "roles", None)
        if roles is not None and principal.role not in roles:
            return False
    return True


def protected_handlers(app: Any) -> list[tuple[str, str, Any]]:
    found: list[tuple[str, str, Any]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or any(re.search(p, route.path) for p in PUBLIC_PATHS):
            continue
        for handler in route.route_handlers:
            if handler.opt.get("exclude_from_auth"):
                continue
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((str(method), route.path, handler))
    return found


def test_every_endpoint_names_who_may_call_it(api: ApiHarness) -> None:
    handlers = protected_handlers(api.client.app)
    assert len(handlers) > 40
    unguarded = [(m, p) for m, p, h in handlers if not rules(h)]
    assert unguarded == []


def test_every_role_on_every_endpoint(api: ApiHarness) -> None:
    owner = api.register()
    callers: dict[str, tuple[dict[str, str], Principal]] = {}
    account = uuid4()
    for role in UserRole.OWNER, UserRole.SENDER, UserRole.FINANCE, UserRole.VIEWER:
        made = api.client.post(
            "/v1/account/api-keys", json={"role": role.value}, headers=owner.headers
        ).json()
        principal = Principal(Role.CUSTOMER, account, None, "kt", role)
        callers[role.value] = ({"Authorization": f"Bearer {made['api_key']}"}, principal)
    callers["operator"] = (api.admin, Principal(Role.ADMIN, None, None, "kt", UserRole.OPERATOR))
    callers["staff finance"] = (
        api.finance,
        Principal(Role.FINANCE, None, None, "kt", UserRole.FINANCE),
    )
    wrong = []
    for method, path, handler in protected_handlers(api.client.app):
        guards = rules(handler)
        url = concrete(path)
        for name, (headers, principal) in callers.items():
            may = allowed(guards, principal, method)
            body: dict[str, Any] | None = (
                None if method in SAFE_METHODS or method == "DELETE" else {}
            )
            answer = api.client.request(method, url, json=body, headers=headers)
            if may == (answer.status_code == 403):
                wrong.append((method, path, name, may, answer.status_code, answer.text[:120]))
    assert wrong == [], "\n".join(map(str, wrong))


def test_the_owner_invites_a_user_who_joins_and_is_removed_at_once(api: ApiHarness) -> None:
    owner = api.register("greta")
    invited = api.client.post(
        "/v1/account/users/invitations",
        json={"email": "hanna@example.de", "role": "sender"},
        headers=owner.headers,
    )
    assert invited.status_code == 201, invited.text
    pool = api.backend.pool
    assert pool is not None
    (queued,) = PostgresMailOutbox(pool).due(datetime.now(UTC) + timedelta(seconds=1))
    assert queued.mail.to == "hanna@example.de"
    found = re.search(r"accept-invitation#token=([\w-]+)", queued.mail.text)
    assert found is not None
    joined = api.client.post(
        "/v1/invitations/accept",
        json={"token": found.group(1), "username": "hanna", "password": SAMPLE_PASSWORD},
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["role"] == "sender"
    again = api.client.post(
        "/v1/invitations/accept",
        json={"token": found.group(1), "username": "hanna2", "password": SAMPLE_PASSWORD},
    )
    assert again.status_code == 400
    assert again.json()["type"].endswith("/invitation-closed")
    members = api.client.get("/v1/account/users", headers=owner.headers).json()
    assert sorted((u["username"], u["role"]) for u in members["users"]) == [
        ("greta", "owner"),
        ("hanna", "sender"),
    ]
    csrf = sign_in(api, "hanna").json()["csrf_token"]
    listed = api.client.post("/v1/lists", json={"name": "A"}, headers={"X-CSRF-Token": csrf})
    assert listed.status_code == 201
    assert api.client.get("/v1/account/users").status_code == 403  # a sender is not the owner
    user_id = joined.json()["user_id"]
    last = api.client.patch(
        f"/v1/account/users/{members['users'][0]['user_id']}",
        json={"role": "viewer"},
        headers=owner.headers,
    )
    assert last.status_code == 409  # greta is the last owner
    removed = api.client.delete(f"/v1/account/users/{user_id}", headers=owner.headers)
    assert removed.status_code == 204
    assert api.client.get("/v1/lists").status_code == 401  # her session ended at once
    assert sign_in(api, "hanna").status_code == 401


def test_two_factor_sign_in_over_http(api: ApiHarness) -> None:
    owner = api.register("ida")
    assert sign_in(api, "ida").status_code == 201
    assert api.client.get("/v1/lists").status_code == 200
    required = api.client.put(
        "/v1/account/two-factor", json={"required": True}, headers=owner.headers
    )
    assert required.status_code == 200, required.text
    already_open = api.client.get("/v1/lists")  # the session from before the rule: at once
    assert already_open.status_code == 403, already_open.text
    api.client.cookies.clear()
    signed_in = sign_in(api, "ida").json()
    assert signed_in["two_factor_setup_required"] is True
    csrf = {"X-CSRF-Token": signed_in["csrf_token"]}
    blocked = api.client.get("/v1/lists")
    assert blocked.status_code == 403
    assert blocked.json()["type"].endswith("/two-factor-setup-required")
    setup = api.client.post("/v1/account/me/two-factor", headers=csrf)
    assert setup.status_code == 201, setup.text
    assert setup.json()["qr_svg"].lstrip().startswith("<svg")
    secret = setup.json()["secret"]
    code = pyotp.TOTP(secret).at(api.clock.now)
    confirmed = api.client.post(
        "/v1/account/me/two-factor/confirm", json={"code": code}, headers=csrf
    )
    assert confirmed.status_code == 201, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(recovery) == 10
    assert api.client.get("/v1/lists").status_code == 200  # set up: everything again
    api.client.cookies.clear()
    needs = sign_in(api, "ida")
    assert needs.status_code == 401
    assert needs.json()["type"].endswith("/two-factor-required")
    api.clock.advance(seconds=30)
    later = pyotp.TOTP(secret).at(api.clock.now)
    with_code = api.client.post(
        "/v1/sessions", json={"login": "ida", "password": SAMPLE_PASSWORD, "code": later}
    )
    assert with_code.status_code == 201, with_code.text
    api.client.cookies.clear()
    replay = api.client.post(
        "/v1/sessions", json={"login": "ida", "password": SAMPLE_PASSWORD, "code": later}
    )
    assert replay.status_code == 401
    assert replay.json()["type"].endswith("/two-factor-refused")
    by_recovery = api.client.post(
        "/v1/sessions", json={"login": "ida", "password": SAMPLE_PASSWORD, "code": recovery[0]}
    )
    assert by_recovery.status_code == 201


def staff_session(api: ApiHarness, username: str, role: UserRole) -> dict[str, str]:
    """A staff user enrolled as ``kontor staff add`` does, their password set by the link,
    two-factor sign-in set up: the CSRF header of their session (the client holds its cookie)."""
    pool = api.backend.pool
    assert pool is not None
    enrolment = StaffEnrolment(
        api.backend.accounts, PostgresOneTimeTokens(pool, "password-reset"),
        Passwords(FAST), api.clock, lambda token: f"http://x/reset-password#token={token}",
    )  # fmt: skip
    _, link = enrolment.enrol(username, f"{username}@kontor.example", role, "cli:test")
    token = link.partition("#token=")[2]
    done = api.client.post(
        "/v1/password-resets/complete", json={"token": token, "password": SAMPLE_PASSWORD}
    )
    assert done.status_code == 204, done.text
    api.client.cookies.clear()
    first = sign_in(api, username).json()
    assert first["two_factor_setup_required"] is True  # staff always use it
    csrf = {"X-CSRF-Token": first["csrf_token"]}
    secret = api.client.post("/v1/account/me/two-factor", headers=csrf).json()["secret"]
    code = pyotp.TOTP(secret).at(api.clock.now)
    confirmed = api.client.post(
        "/v1/account/me/two-factor/confirm", json={"code": code}, headers=csrf
    )
    assert confirmed.status_code == 201
    return csrf


def test_support_reads_histories_and_lifts_locks_but_changes_no_credit(api: ApiHarness) -> None:
    customer = api.register("jonas")
    for _ in range(10):
        sign_in(api, "jonas", "not-the-password")
        api.clock.advance(seconds=600)
    api.client.cookies.clear()
    assert sign_in(api, "jonas").status_code == 429  # locked
    csrf = staff_session(api, "sven", UserRole.SUPPORT)
    account = customer.account_id
    history = api.client.get(f"/v1/admin/accounts/{account}/history")
    assert history.status_code == 200, history.text
    items = history.json()["items"]
    assert any(e["event"] == "Locked" for e in items)
    assert "jonas@example.de" not in history.text  # support sees it redacted
    members = api.client.get("/v1/account/users", headers=customer.headers).json()["users"]
    user_id = members[0]["user_id"]
    unlocked = api.client.post(f"/v1/admin/accounts/{account}/users/{user_id}/unlock", headers=csrf)
    assert unlocked.status_code == 200, unlocked.text
    assert unlocked.json()["locked"] is False
    topup = api.client.post(
        f"/v1/admin/accounts/{account}/topups",
        json={"package": "sms-1000", "reference": "R1"},
        headers=csrf,
    )
    assert topup.status_code == 403  # support changes no credit
    assert api.client.get(f"/v1/messages?account_id={account}").status_code == 200
    api.client.cookies.clear()
    assert sign_in(api, "jonas").status_code == 201
    after = api.client.get("/v1/account/history", headers=customer.headers).json()["items"]
    (lifted,) = [e for e in after if e["event"] == "Unlocked"]
    assert lifted["actor"].startswith("user:")  # the staff user who did it, by id
    assert lifted["actor"] != f"user:{user_id}"


def test_an_operator_signs_in_instead_of_sharing_the_key(api: ApiHarness) -> None:
    """Every change the operator makes to an account names the staff user in its history:
    credit, adjustment, review threshold, releasing a campaign, blocking."""
    customer = api.register("karl")
    csrf = staff_session(api, "olga-op", UserRole.OPERATOR)
    account = f"/v1/admin/accounts/{customer.account_id}"
    done = [
        api.client.post(f"{account}/topups", headers=csrf,
                        json={"net": 100_000, "reference": "K1", "method": "paypal"}),
        api.client.post(f"{account}/adjustments", headers=csrf,
                        json={"type": "goodwill", "amount": 5_000, "reason": "late report"}),
        api.client.patch(account, json={"review_threshold": 1}, headers=csrf),
    ]  # fmt: skip
    assert [r.status_code for r in done] == [201, 201, 200], [r.text for r in done]
    recipients = [{"number": f"+4915112345{n:03d}"} for n in range(2)]
    held = api.client.post(
        "/v1/campaigns",
        json={"text": "Hallo!", "sender": "Shop", "recipients": recipients},
        headers=customer.headers,
    )
    assert held.status_code == 202, held.text
    campaign = held.json()["campaign_id"]
    api.catch_up()
    released = api.client.post(f"/v1/admin/campaigns/{campaign}/release", headers=csrf)
    assert released.status_code == 200, released.text
    blocked = api.client.patch(
        account, json={"state": "blocked", "reason": "unpaid invoice"}, headers=csrf
    )
    assert blocked.status_code == 200, blocked.text
    messaging_runner(api.backend).catch_up()  # the sends' read side names the held send
    history = api.client.get("/v1/account/history", headers=customer.headers).json()["items"]
    by_staff = {(e["subject"], e["event"]) for e in history if e["actor"] == released_by(history)}
    assert by_staff == {
        ("wallet", "CreditPurchased"),
        ("wallet", "CreditGranted"),
        ("account", "ReviewThresholdChanged"),
        (f"send:{campaign}", "ReviewReleased"),
        ("account", "StateChanged"),
    }, history
    trial = [
        e for e in history if e["event"] == "CreditGranted" and e["actor"] != released_by(history)
    ]
    assert trial, "the trial credit shows too"
    assert not any(e["event"] in ("CreditHeld", "CreditReturned") for e in history)
    as_support = api.client.get(f"{account}/history", headers=csrf).json()["items"]
    assert {(e["subject"], e["event"], e["actor"]) for e in as_support} == {
        (e["subject"], e["event"], e["actor"]) for e in history
    }


def released_by(history: list[dict[str, Any]]) -> str:
    (release,) = [e for e in history if e["event"] == "ReviewReleased"]
    actor = str(release["actor"])
    assert actor.startswith("user:")  # the staff user, by id: never a shared key
    return actor


REQUIRED = ("kind", "salutation", "first_name", "last_name", "street", "postcode", "city",
            "email", "phone", "username", "password", "accepted_terms",
            "accepted_privacy")  # fmt: skip


def test_each_missing_registration_field_is_a_problem_naming_it(api: ApiHarness) -> None:
    for field in REQUIRED:
        body = registration(f"m{field.replace('_', '')[:20]}")
        del body[field]
        refused = api.client.post("/v1/accounts", json=body)
        assert refused.status_code == 422, (field, refused.text)
        assert refused.headers["content-type"] == PROBLEM
        assert field in refused.text, field


def test_an_account_from_before_people_gets_its_owner_by_invitation(api: ApiHarness) -> None:
    """An account registered before users existed has none and is reached with its keys; the
    key's holder invites the person who becomes its owner."""
    key = apikeys.generate(PEPPER.encode())
    old = api.backend.accounts.register(
        kind=AccountKind.PERSON, company=None, contact_name="Alt Kunde", email="alt@example.de",
        username="altkunde", tariff=Tariff.QUALITY, contract=Contract.prepaid(date(2025, 1, 2)),
        key_prefix=key.prefix, key_digest=key.digest,
    )  # fmt: skip
    headers = {"Authorization": f"Bearer {key.plaintext}"}
    assert api.client.get("/v1/account/users", headers=headers).json()["users"] == []
    invited = api.client.post(
        "/v1/account/users/invitations",
        json={"email": "neu@example.de", "role": "owner"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    pool = api.backend.pool
    assert pool is not None
    (queued,) = PostgresMailOutbox(pool).due(datetime.now(UTC) + timedelta(seconds=1))
    found = re.search(r"#token=([\w-]+)", queued.mail.text)
    assert found is not None
    joined = api.client.post(
        "/v1/invitations/accept",
        json={"token": found.group(1), "username": "neu.owner", "password": SAMPLE_PASSWORD},
    )
    assert joined.status_code == 201, joined.text
    assert joined.json()["account_id"] == str(old)
    assert sign_in(api, "neu.owner").status_code == 201
    assert api.client.get("/v1/account").json()["id"] == str(old)


def test_a_cross_site_form_cannot_sign_a_browser_in(api: ApiHarness) -> None:
    api.client.post("/v1/accounts", json=registration("lina"))
    body = json.dumps({"login": "lina", "password": SAMPLE_PASSWORD})
    for media in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        forged = api.client.post("/v1/sessions", content=body, headers={"Content-Type": media})
        assert forged.status_code == 415, (media, forged.text)
        assert "set-cookie" not in forged.headers
    assert sign_in(api, "lina").status_code == 201
