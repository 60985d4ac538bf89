"""The browser application's first pages over HTTP: sign-up with the trial credit shown at
once, sign-in and sign-out, German first and English a click away, the forms' CSRF tokens, the
pages' security headers, and no account seeing another's figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyotp

from adapters.postgres.mail_outbox import PostgresMailOutbox
from domain.accounts.user import UserRole
from kontor.samples import SAMPLE_PASSWORD, registration
from tests.integration.api.test_list_campaigns import acceptance, customer_with_list, run_to_end
from tests.integration.api.test_people import staff_session
from tests.support.api import ApiHarness
from tests.support.contacts import run_until_done
from workers.projections import messaging_runner

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def token_of(page: httpx.Response, name: str = "form_token") -> str:
    found = re.search(rf'name="{name}" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_up(api: ApiHarness, username: str, **changes: Any) -> httpx.Response:
    form = api.client.get("/registrieren")
    assert form.status_code == 200, form.text
    body = {k: v for k, v in registration(username).items() if not k.startswith("accepted_")}
    body |= {"accept_terms": "yes", "form_token": token_of(form)} | changes
    return api.client.post("/registrieren", data=body, headers=FORM)


def sign_in(api: ApiHarness, login: str, password: str = SAMPLE_PASSWORD) -> httpx.Response:
    form = api.client.get("/anmelden")
    return api.client.post(
        "/anmelden",
        data={"login": login, "password": password, "form_token": token_of(form)},
        headers=FORM,
        follow_redirects=False,
    )


def test_a_new_customer_signs_up_and_sees_the_trial_credit_at_once(api: ApiHarness) -> None:
    welcome = sign_up(api, "paula")
    assert welcome.status_code == 201, welcome.text
    assert "Startguthaben" in welcome.text
    assert "1,00\xa0€" in welcome.text  # the trial credit, formatted for Germany
    assert re.search(r"kt_[a-z2-7]{12}_", welcome.text)  # the API key, shown this once
    api.catch_up()
    overview = api.client.get("/app")  # signed in by the sign-up
    assert overview.status_code == 200, overview.text
    assert "Verfügbares Guthaben" in overview.text
    assert "1,00\xa0€" in overview.text
    assert "Restvolumen" in overview.text
    assert not re.search(r"kt_[a-z2-7]{12}_", overview.text)  # never shown again


def test_pages_carry_a_strict_policy_and_no_third_party_asset(api: ApiHarness) -> None:
    for path in ("/anmelden", "/registrieren"):
        page = api.client.get(path)
        assert page.status_code == 200
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text  # nothing inline
        assert " style=" not in page.text
        assert not re.search(r'(src|href)="(https?:)?//', page.text)  # nothing from elsewhere
    assert api.client.get("/static/app/app.css").status_code == 200


def test_a_form_without_its_token_changes_nothing(api: ApiHarness) -> None:
    body = {k: v for k, v in registration("quentin").items() if not k.startswith("accepted_")}
    refused = api.client.post("/registrieren", data=body | {"accept_terms": "yes"}, headers=FORM)
    assert refused.status_code == 403
    assert "Formular abgelaufen" in refused.text
    api.client.get("/anmelden")  # a token cookie now, but the form still names none
    refused = api.client.post(
        "/anmelden", data={"login": "x", "password": "y", "form_token": "forged"}, headers=FORM
    )
    assert refused.status_code == 403
    assert sign_in(api, "quentin").status_code == 400  # never registered


def test_sign_up_mistakes_are_shown_at_their_field(api: ApiHarness) -> None:
    no_terms = sign_up(api, "rita", accept_terms="")
    assert no_terms.status_code == 422
    assert 'id="accept_terms-error"' in no_terms.text
    bad_postcode = sign_up(api, "rita", postcode="")
    assert bad_postcode.status_code == 422
    assert 'aria-describedby="postcode-error"' in bad_postcode.text
    assert SAMPLE_PASSWORD not in bad_postcode.text  # the password is never echoed
    assert "Rita" not in bad_postcode.text or 'value="rita"' in bad_postcode.text
    assert sign_up(api, "rita").status_code == 201
    api.client.cookies.clear()
    taken = sign_up(api, "rita")
    assert taken.status_code == 409, taken.text
    assert 'role="alert"' in taken.text


def test_sign_in_and_out_and_back_to_where_one_was(api: ApiHarness) -> None:
    customer = api.register("sabine")
    away = api.client.get("/app", follow_redirects=False)
    assert away.status_code == 303
    assert away.headers["location"] == "/anmelden?next=/app"
    wrong = sign_in(api, customer.username, "not the password")
    assert wrong.status_code == 400
    assert "Die Anmeldedaten passen nicht" in wrong.text
    done = sign_in(api, customer.username)
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/app"
    overview = api.client.get("/app")
    assert overview.status_code == 200
    assert "sabine" in overview.text
    out = api.client.post(
        "/app/abmelden", data={"csrf_token": "wrong"}, headers=FORM, follow_redirects=False
    )
    assert out.status_code == 403  # another site's form cannot sign anyone out
    out = api.client.post("/app/abmelden", data={"csrf_token": token_of(overview, "csrf_token")},
                          headers=FORM, follow_redirects=False)  # fmt: skip
    assert out.status_code == 303
    assert api.client.get("/app", follow_redirects=False).status_code == 303


def test_english_is_a_click_away_and_sticks(api: ApiHarness) -> None:
    switched = api.client.get("/sprache/en?next=/anmelden", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/anmelden"
    page = api.client.get("/anmelden")
    assert "Sign in" in page.text
    assert "Anmelden" not in page.text
    elsewhere = api.client.get("/sprache/en?next=//evil.example/", follow_redirects=False)
    assert elsewhere.headers["location"] == "/app"  # never off the site


def test_each_customer_sees_only_their_own_figures(api: ApiHarness) -> None:
    rich, poor = api.register("theo"), api.register("ulla")
    assert api.topup(rich, 5_000_000, "theo-1").status_code == 201
    api.catch_up()
    assert sign_in(api, poor.username).status_code == 303
    overview = api.client.get("/app")
    assert "1,00\xa0€" in overview.text
    assert "501,00\xa0€" not in overview.text
    del rich


def test_two_factor_sign_in_is_set_up_in_the_application(api: ApiHarness) -> None:
    owner = api.register("vera")
    required = api.client.put(
        "/v1/account/two-factor", json={"required": True}, headers=owner.headers
    )
    assert required.status_code == 200
    assert sign_in(api, "vera").status_code == 303
    sent_on = api.client.get("/app", follow_redirects=False)
    assert sent_on.headers["location"] == "/app/zwei-faktor"  # nothing else until it is on
    offer = api.client.get("/app/zwei-faktor")
    csrf = token_of(offer, "csrf_token")
    started = api.client.post("/app/zwei-faktor", data={"csrf_token": csrf}, headers=FORM)
    assert started.status_code == 200, started.text
    assert 'src="data:image/svg+xml;base64,' in started.text  # the QR code, no inline markup
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', started.text)
    assert found
    secret = found.group(1)
    code = pyotp.TOTP(secret).at(api.clock.now)
    other = "000000" if code != "000000" else "111111"
    wrong = api.client.post("/app/zwei-faktor/bestaetigen", headers=FORM,
                            data={"csrf_token": csrf, "code": other})  # fmt: skip
    assert wrong.status_code == 400
    assert "Der Code passte nicht" in wrong.text
    on = api.client.post("/app/zwei-faktor/bestaetigen", headers=FORM,
                         data={"csrf_token": csrf, "code": code})  # fmt: skip
    assert on.status_code == 200, on.text
    assert len(re.findall(r"<li><code>", on.text)) == 10  # the recovery codes, once
    assert api.client.get("/app").status_code == 200  # everything again
    api.client.cookies.clear()
    asked = sign_in(api, "vera")
    assert asked.status_code == 200
    assert 'name="code"' in asked.text


def test_the_credit_page_shows_the_statement_and_offers_its_csv(api: ApiHarness) -> None:
    customer = api.register("wanda")
    assert api.topup(customer, 1_000_000, "wanda-1").status_code == 201
    api.catch_up()
    assert sign_in(api, "wanda").status_code == 303
    credit = api.client.get("/app/guthaben")
    assert credit.status_code == 200, credit.text
    assert "Kontoauszug" in credit.text
    assert "Aufladung" in credit.text  # the top-up, as the customer reads it
    assert "Startguthaben" in credit.text
    assert "101,00\xa0€" in credit.text  # the balance after both
    found = re.search(r'href="(/v1/account/statement\?format=csv[^"]*)"', credit.text)
    assert found
    download = api.client.get(found.group(1).replace("&amp;", "&"))
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    tomorrow = api.client.get("/app/guthaben", params={"from": "2099-01-01"})
    assert tomorrow.status_code == 422  # a day after today: said at the form, not a 500
    assert 'role="alert"' in tomorrow.text


def test_a_staff_user_gets_the_staff_page_not_a_customers(api: ApiHarness) -> None:
    staff_session(api, "sonja-op", UserRole.OPERATOR)
    staff_page = api.client.get("/app/guthaben")
    assert staff_page.status_code == 200
    assert "Mitarbeiter" in staff_page.text
    assert "Kontoauszug" not in staff_page.text


def test_sends_are_listed_read_in_colours_and_cancelled_from_the_application(
    api: ApiHarness,
) -> None:
    customer, stranger = api.register("xaver"), api.register("yvonne")
    assert api.topup(customer, 1_000_000, "xaver-1").status_code == 201
    later = (api.clock.now + timedelta(days=2)).isoformat()
    posted = api.client.post(
        "/v1/campaigns",
        json={"text": "Hallo!", "sender": "Shop", "name": "Adventsgruß", "send_at": later,
              "recipients": [{"number": f"+4915112340{n:03d}"} for n in range(3)]},
        headers=customer.headers,
    )  # fmt: skip
    assert posted.status_code == 202, posted.text
    send_id = posted.json()["campaign_id"]
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    assert sign_in(api, "xaver").status_code == 303
    listed = api.client.get("/app/auftraege")
    assert listed.status_code == 200, listed.text
    assert "Adventsgruß" in listed.text
    assert "geplant" in listed.text
    opened = api.client.get(f"/app/auftraege/{send_id}")
    assert opened.status_code == 200, opened.text
    assert "Geplant für" in opened.text
    now = api.client.post(
        "/v1/messages",
        json={"to": ["+4915112341000"], "text": "Ihr Code: 4711", "sender": "Shop"},
        headers=customer.headers,
    )
    assert now.status_code == 201, now.text
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    sent = api.client.get(f"/app/auftraege/{now.json()['send_id']}")
    assert sent.status_code == 200, sent.text
    assert "noch kein Bericht: 1" in sent.text  # grey, with its word
    assert "in Warteschlange" in sent.text  # the message's own row
    link = re.search(r'href="(/app/nachrichten/[0-9a-f-]+)"', sent.text)
    assert link
    message = api.client.get(link.group(1))
    assert message.status_code == 200, message.text
    assert "Nachricht an 004915112341000" in message.text
    assert "Zum Versand erfasst" in message.text  # its history, as replayed from the events
    assert "Ihr Code: 4711" in message.text
    cancelled = api.client.post(
        f"/app/auftraege/{send_id}/stornieren",
        data={"csrf_token": token_of(opened, "csrf_token")},
        headers=FORM,
        follow_redirects=False,
    )
    assert cancelled.status_code == 303, cancelled.text
    messaging_runner(api.backend).catch_up()
    after = api.client.get(f"/app/auftraege/{send_id}")
    assert "storniert" in after.text
    assert "Auftrag stornieren" not in after.text  # nothing left to cancel
    assert f'src="/app/auftraege/{send_id}/verlauf.svg"' in after.text
    chart = api.client.get(f"/app/auftraege/{send_id}/verlauf.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "default-src 'none'" in chart.headers["content-security-policy"]
    assert "Zugestellt" in chart.text
    api.client.cookies.clear()
    assert sign_in(api, stranger.username).status_code == 303
    theirs = api.client.get(f"/app/auftraege/{send_id}")
    assert theirs.status_code == 404  # another account's send: as if there were none
    assert "Adventsgruß" not in theirs.text
    assert api.client.get(f"/app/auftraege/{send_id}/verlauf.svg").status_code == 404
    not_theirs = api.client.get(link.group(1))
    assert not_theirs.status_code == 404
    assert "Ihr Code" not in not_theirs.text


def test_compose_previews_confirms_the_cost_and_sends_once(api: ApiHarness) -> None:
    customer = api.register("zora")
    assert api.topup(customer, 1_000_000, "zora-1").status_code == 201
    api.catch_up()
    assert sign_in(api, "zora").status_code == 303
    compose = api.client.get("/app/senden")
    assert compose.status_code == 200, compose.text
    csrf = token_of(compose, "csrf_token")
    draft = {"csrf_token": csrf, "numbers": "0151 23456789\n+49 151 23456780, 0160 1234567",
             "sender": "Shop", "text": "Hallo, Ihr Termin ist morgen."}  # fmt: skip
    live = api.client.post("/app/senden/vorschau", data=draft, headers=FORM)
    assert live.status_code == 200, live.text
    assert "<html" not in live.text  # a fragment for the page's preview region
    assert "GSM-7" in live.text
    expected = api.client.post(
        "/v1/messages/preview",
        json={"text": draft["text"], "sender": "Shop",
              "recipients": [{"number": n} for n in ("015123456789", "+4915123456780",
                                                      "01601234567")]},
        headers=customer.headers,
    ).json()  # fmt: skip
    confirm = api.client.post("/app/senden", data=draft | {"action": "confirm"}, headers=FORM)
    assert confirm.status_code == 200, confirm.text
    total = expected["total_price"]
    assert total == 3 * 790
    key = token_of(confirm, "key")
    assert "Versand bestätigen" in confirm.text
    assert "Für 0,24\xa0€ versenden" in confirm.text  # the cost named on the button
    sent = api.client.post("/app/senden", data=draft | {"action": "send", "key": key},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    again = api.client.post("/app/senden", data=draft | {"action": "send", "key": key},
                            headers=FORM, follow_redirects=False)  # fmt: skip
    assert again.headers["location"] == sent.headers["location"]  # one send, not two
    send_id = sent.headers["location"].rsplit("/", 1)[1]
    campaign = api.client.get(f"/v1/campaigns/{send_id}", headers=customer.headers).json()
    assert campaign["expected_cost"] == total  # charged what the preview said
    assert campaign["recipients"] == 3


def test_compose_says_what_is_missing_and_who_may_not_send(api: ApiHarness) -> None:
    api.register("anton")
    assert sign_in(api, "anton").status_code == 303
    csrf = token_of(api.client.get("/app/senden"), "csrf_token")
    empty = api.client.post("/app/senden", data={"csrf_token": csrf, "action": "confirm",
                                                 "numbers": "", "sender": "Shop",
                                                 "text": "Hallo"}, headers=FORM)  # fmt: skip
    assert empty.status_code == 422
    assert "mindestens eine Empfängernummer" in empty.text
    past = api.client.post("/app/senden", data={"csrf_token": csrf, "action": "confirm",
                                                "numbers": "015123456789", "sender": "Shop",
                                                "text": "Hallo", "send_at": "2020-01-01T10:00"},
                           headers=FORM)  # fmt: skip
    assert past.status_code == 422
    assert "in der Zukunft" in past.text
    far = api.client.post("/app/senden", data={"csrf_token": csrf, "action": "confirm",
                                               "numbers": "015123456789", "sender": "Shop",
                                               "text": "Hallo", "send_at": "2099-01-01T10:00"},
                          headers=FORM)  # fmt: skip
    assert far.status_code == 422  # refused at the form, not after the confirmation
    assert "nicht planen" in far.text
    forged = api.client.post("/app/senden", data={"csrf_token": "x", "numbers": "015123456789",
                                                  "sender": "Shop", "text": "Hallo"},
                             headers=FORM)  # fmt: skip
    assert forged.status_code == 403


def mailed_token(api: ApiHarness, to: str) -> str:
    pool = api.backend.pool
    assert pool is not None
    mails = [m for m in PostgresMailOutbox(pool).due(datetime.now(UTC) + timedelta(seconds=1))
             if m.mail.to == to]  # fmt: skip
    assert mails, f"no mail to {to}"
    found = re.search(r"#token=([\w-]+)", mails[-1].mail.text)
    assert found
    return found.group(1)


def test_a_forgotten_password_is_reset_from_the_mailed_link(api: ApiHarness) -> None:
    api.register("berta")
    form = api.client.get("/passwort-vergessen")
    asked = api.client.post("/passwort-vergessen", headers=FORM, data={
        "login": "berta", "email": "berta@example.de", "form_token": token_of(form)})  # fmt: skip
    assert asked.status_code == 200
    assert "unterwegs" in asked.text
    unknown = api.client.post("/passwort-vergessen", headers=FORM, data={
        "login": "nobody", "email": "x@example.de", "form_token": token_of(form)})  # fmt: skip
    assert unknown.text.count("unterwegs") == asked.text.count("unterwegs")  # the same answer
    token = mailed_token(api, "berta@example.de")
    page = api.client.get("/reset-password")
    assert '<script src="/static/app/link.js"' in page.text  # takes the token from the link
    new_password = "Wintersonne-2026"
    weak = api.client.post("/reset-password", headers=FORM, data={
        "token": token, "password": "short", "form_token": token_of(page)})  # fmt: skip
    assert weak.status_code == 422, weak.text
    done = api.client.post("/reset-password", headers=FORM, follow_redirects=False, data={
        "token": token, "password": new_password, "form_token": token_of(page)})  # fmt: skip
    assert done.status_code == 303, done.text
    assert "reset=1" in done.headers["location"]
    assert sign_in(api, "berta", new_password).status_code == 303
    again = api.client.post("/reset-password", headers=FORM, data={
        "token": token, "password": new_password, "form_token": token_of(page)})  # fmt: skip
    assert again.status_code >= 400  # a link works once
    assert 'role="alert"' in again.text


def test_the_owner_invites_manages_and_removes_users_in_the_application(
    api: ApiHarness,
) -> None:
    api.register("carla")
    assert sign_in(api, "carla").status_code == 303
    users = api.client.get("/app/benutzer")
    assert users.status_code == 200, users.text
    csrf = token_of(users, "csrf_token")
    invited = api.client.post("/app/benutzer/einladen", headers=FORM, follow_redirects=False,
                              data={"csrf_token": csrf, "email": "dora@example.de",
                                    "role": "viewer"})  # fmt: skip
    assert invited.status_code == 303, invited.text
    assert "dora@example.de" in api.client.get("/app/benutzer").text
    token = mailed_token(api, "dora@example.de")
    api.client.cookies.clear()
    form = api.client.get("/accept-invitation")
    joined = api.client.post("/accept-invitation", headers=FORM, follow_redirects=False, data={
        "token": token, "username": "dora", "password": SAMPLE_PASSWORD,
        "form_token": token_of(form)})  # fmt: skip
    assert joined.status_code == 303, joined.text
    assert api.client.get("/app").status_code == 200  # signed in as dora
    assert api.client.get("/app/benutzer").status_code == 403  # a viewer manages no one
    api.client.cookies.clear()
    assert sign_in(api, "carla").status_code == 303
    users = api.client.get("/app/benutzer")
    dora = re.search(r'action="/app/benutzer/([0-9a-f-]+)/entfernen"', users.text)
    assert dora
    removed = api.client.post(f"/app/benutzer/{dora.group(1)}/entfernen", headers=FORM,
                              data={"csrf_token": token_of(users, "csrf_token")},
                              follow_redirects=False)  # fmt: skip
    assert removed.status_code == 303
    assert "dora" not in api.client.get("/app/benutzer").text
    own = re.search(
        r'action="/app/benutzer/([0-9a-f-]+)/rolle"', api.client.get("/app/benutzer").text
    )
    assert own
    csrf = token_of(users, "csrf_token")
    demoted = api.client.post(f"/app/benutzer/{own.group(1)}/rolle", headers=FORM,
                              data={"csrf_token": csrf, "role": "viewer"})  # fmt: skip
    assert demoted.status_code == 409  # the last owner stays owner, and the page says so
    assert 'role="alert"' in demoted.text


def test_the_owner_makes_and_revokes_keys_and_ends_sessions_in_the_application(
    api: ApiHarness,
) -> None:
    customer = api.register("emil")
    assert sign_in(api, "emil").status_code == 303
    access = api.client.get("/app/zugang")
    assert access.status_code == 200, access.text
    csrf = token_of(access, "csrf_token")
    wanted = {"csrf_token": csrf, "label": "Warenwirtschaft", "role": "sender"}
    made = api.client.post("/app/zugang/schluessel", headers=FORM, data=wanted)
    assert made.status_code == 201, made.text
    found = re.search(r'<code class="secret">(kt_[a-z2-7]{12}_[\w-]+)</code>', made.text)
    assert found  # shown once
    new_key = found.group(1)
    assert (
        api.client.get("/v1/lists", headers={"Authorization": f"Bearer {new_key}"}).status_code
        == 200
    )
    listed = api.client.get("/app/zugang")
    assert new_key not in listed.text  # never again, only its prefix
    assert "Warenwirtschaft" in listed.text
    keys = api.client.get("/v1/account/api-keys", headers=customer.headers).json()["items"]
    assert len(keys) == 2  # the registration's and the new one, oldest first
    assert keys[1]["label"] == "Warenwirtschaft"
    new_id = next(k["id"] for k in keys if k["label"] == "Warenwirtschaft")
    revoked = api.client.post(f"/app/zugang/schluessel/{new_id}/widerrufen", headers=FORM,
                              data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert revoked.status_code == 303
    assert (
        api.client.get("/v1/lists", headers={"Authorization": f"Bearer {new_key}"}).status_code
        == 401
    )
    last_id = next(k["id"] for k in keys if k["id"] != new_id)
    refused = api.client.post(f"/app/zugang/schluessel/{last_id}/widerrufen", headers=FORM,
                              data={"csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 409  # the last live key stays, and the page says why
    sessions = re.findall(r'action="/app/zugang/sitzungen/([0-9a-f-]+)/beenden"', listed.text)
    assert len(sessions) == 1
    ended = api.client.post(f"/app/zugang/sitzungen/{sessions[0]}/beenden", headers=FORM,
                            data={"csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert ended.headers["location"] == "/anmelden"
    assert api.client.get("/app", follow_redirects=False).status_code == 303


def test_an_operator_finds_an_account_credits_a_payment_and_releases_a_campaign(
    api: ApiHarness,
) -> None:
    customer = api.register("fritz")
    assert api.topup(customer, 1_000_000, "fritz-1").status_code == 201
    patched = api.client.patch(f"/v1/admin/accounts/{customer.account_id}",
                               json={"review_threshold": 1}, headers=api.admin)  # fmt: skip
    assert patched.status_code == 200
    held = api.client.post(
        "/v1/campaigns",
        json={"text": "Hallo!", "sender": "Shop", "name": "Zur Prüfung",
              "recipients": [{"number": f"+4915112342{n:03d}"} for n in range(2)]},
        headers=customer.headers,
    )  # fmt: skip
    assert held.status_code == 202, held.text
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    number = api.client.get("/v1/account", headers=customer.headers).json()["number"]
    staff_session(api, "otto-op", UserRole.OPERATOR)
    home = api.client.get("/app/mitarbeiter")
    assert home.status_code == 200, home.text
    assert "Zur Prüfung" in home.text  # in the review queue
    assert "Hallo!" in home.text  # with the text it would send
    found = api.client.get("/app/mitarbeiter", params={"q": number}, follow_redirects=False)
    assert found.status_code == 303
    assert found.headers["location"] == f"/app/mitarbeiter/konten/{customer.account_id}"
    account = api.client.get(found.headers["location"])
    assert account.status_code == 200, account.text
    csrf = token_of(account, "csrf_token")
    credit = f"/app/mitarbeiter/konten/{customer.account_id}/gutschrift"
    payment = {"csrf_token": csrf, "amount": "49,90", "method": "bank_transfer",
               "reference": "RE-2026-17"}  # fmt: skip
    asked = api.client.post(credit, data=payment, headers=FORM)
    assert asked.status_code == 200
    assert "49,90\xa0€ gutschreiben" in asked.text  # the confirmation names the amount
    assert api.balance(customer)["available"] < 1_499_000  # nothing booked yet
    booked = api.client.post(credit, data=payment | {"confirmed": "yes"}, headers=FORM,
                             follow_redirects=False)  # fmt: skip
    assert booked.status_code == 303, booked.text
    api.catch_up()
    assert api.balance(customer)["available"] >= 1_499_000  # 1.00 + 100.00 + 49.90, less held
    history = api.client.get("/v1/account/history", headers=customer.headers).json()["items"]
    (purchase,) = [e for e in history if e["event"] == "CreditPurchased"
                   and e["details"]["reference"] == "RE-2026-17"]  # fmt: skip
    assert purchase["actor"].startswith("user:")  # the staff user who booked it
    release = api.client.post(f"/app/mitarbeiter/pruefung/{held.json()['campaign_id']}",
                              data={"csrf_token": csrf, "decision": "release"}, headers=FORM,
                              follow_redirects=False)  # fmt: skip
    assert release.status_code == 303, release.text
    messaging_runner(api.backend).catch_up()
    assert "Zur Prüfung" not in api.client.get("/app/mitarbeiter").text


def test_support_reads_the_console_but_changes_nothing(api: ApiHarness) -> None:
    customer = api.register("gisela")
    staff_session(api, "sina-sup", UserRole.SUPPORT)
    account = api.client.get(f"/app/mitarbeiter/konten/{customer.account_id}")
    assert account.status_code == 200
    assert "Zahlung gutschreiben" not in account.text
    refused = api.client.post(f"/app/mitarbeiter/konten/{customer.account_id}/gutschrift",
                              data={"csrf_token": token_of(account, "csrf_token"),
                                    "amount": "10", "method": "paypal", "reference": "x",
                                    "confirmed": "yes"}, headers=FORM)  # fmt: skip
    assert refused.status_code == 403
    assert api.client.get("/app/mitarbeiter", params={"q": "nobody-here"}).status_code == 404
    unmatched = api.client.get("/app/mitarbeiter/empfangsberichte")
    assert unmatched.status_code == 200, unmatched.text
    assert "Nicht zugeordnete Zustellberichte" in unmatched.text
    bad = api.client.get("/app/mitarbeiter/empfangsberichte", params={"nummer": "keine"})
    assert bad.status_code == 422


WINDOWS_CSV = (
    "Anrede;Vorname;Handy\r\nFrau;Jürgen;0171 2345678\r\nHerr;Sören;keine Nummer\r\n"
    "Frau;Zoë;0160 1234567\r\n"
).encode("cp1252")


def test_a_list_is_made_and_a_windows_csv_imported_with_its_rejections(
    api: ApiHarness,
) -> None:
    api.register("hilde")
    assert sign_in(api, "hilde").status_code == 303
    lists = api.client.get("/app/listen")
    assert lists.status_code == 200, lists.text
    csrf = token_of(lists, "csrf_token")
    made = api.client.post("/app/listen", data={"csrf_token": csrf, "name": "Stammkunden"},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    assert made.status_code == 303, made.text
    list_page = api.client.get(made.headers["location"])
    assert "Stammkunden" in list_page.text
    uploaded = api.client.post(
        made.headers["location"] + "/import",
        data={"csrf_token": csrf},
        files={"file": ("kunden.csv", WINDOWS_CSV, "text/csv")},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303, uploaded.text
    job_page = uploaded.headers["location"]
    waiting = api.client.get(job_page)
    assert 'http-equiv="refresh"' in waiting.text  # it shows its progress while it runs
    run_until_done(api, job_page.rsplit("/", 1)[1])
    done = api.client.get(job_page)
    assert done.status_code == 200
    assert 'http-equiv="refresh"' not in done.text
    assert "fertig" in done.text
    assert "keine Nummer" in done.text  # the rejected line, as written, with its reason
    assert api.client.get("/app/listen").text.count("Stammkunden") == 1
    forged = api.client.post(made.headers["location"] + "/import", data={"csrf_token": "x"},
                             files={"file": ("k.csv", WINDOWS_CSV, "text/csv")})  # fmt: skip
    assert forged.status_code == 403


def test_a_period_that_ends_before_it_starts_is_said_at_the_form(api: ApiHarness) -> None:
    api.register("ida2")
    assert sign_in(api, "ida2").status_code == 303
    backwards = api.client.get("/app/guthaben", params={"from": "2026-03-02", "to": "2026-03-01"})
    assert backwards.status_code == 422
    assert 'role="alert"' in backwards.text
    assert backwards.headers["content-type"].startswith("text/html")


def test_a_viewer_reads_lists_but_makes_none(api: ApiHarness) -> None:
    owner = api.register("jan")
    invited = api.client.post("/v1/account/users/invitations", headers=owner.headers,
                              json={"email": "kai@example.de", "role": "viewer"})  # fmt: skip
    assert invited.status_code == 201, invited.text
    joined = api.client.post("/v1/invitations/accept", json={
        "token": mailed_token(api, "kai@example.de"), "username": "kai",
        "password": SAMPLE_PASSWORD})  # fmt: skip
    assert joined.status_code == 201, joined.text
    assert sign_in(api, "kai").status_code == 303
    lists = api.client.get("/app/listen")
    assert lists.status_code == 200  # every role reads, as in /v1/lists
    assert "Neue Liste" not in lists.text
    wanted = {"csrf_token": token_of(lists, "csrf_token"), "name": "X"}
    made = api.client.post("/app/listen", headers=FORM, data=wanted)
    assert made.status_code == 403


def test_compose_to_a_list_offers_its_columns_names_the_exact_cost_and_shows_acceptance(
    api: ApiHarness,
) -> None:
    service = acceptance(api)
    customer, list_id = customer_with_list(api, 9)
    opted = api.client.post("/v1/opt-outs", json={"number": "015120000004"},
                            headers=customer.headers)  # fmt: skip
    assert opted.status_code in (200, 201), opted.text
    assert sign_in(api, customer.username).status_code == 303
    compose = api.client.get("/app/senden", params={"liste": list_id})
    assert compose.status_code == 200, compose.text
    assert f'value="{list_id}" data-fields="vorname" selected' in compose.text
    assert 'data-placeholder="{vorname}"' in compose.text  # the list's column, offered
    draft = {"csrf_token": token_of(compose, "csrf_token"), "list_id": list_id, "numbers": "",
             "sender": "Kontor", "text": "Hallo {vorname}"}  # fmt: skip
    live = api.client.post("/app/senden/vorschau", data=draft, headers=FORM)
    assert live.status_code == 200, live.text
    assert "Empfänger in der Liste" in live.text
    assert re.search(r"Hallo Kunde \d</pre>", live.text)  # as a recipient of the list gets it
    confirm = api.client.post("/app/senden", data=draft | {"action": "confirm"}, headers=FORM)
    assert confirm.status_code == 200, confirm.text
    assert "8 Empfänger" in confirm.text  # every recipient priced, the opted-out one skipped
    assert "Abgemeldet: 1" in confirm.text
    assert "Für 0,63\xa0€ versenden" in confirm.text  # 8 × 0.079 €
    sent = api.client.post("/app/senden", data=draft | {"action": "send",
                                                        "key": token_of(confirm, "key")},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    assert sent.status_code == 303, sent.text
    send_page = sent.headers["location"]
    accepting = api.client.get(send_page)
    assert accepting.status_code == 200, accepting.text
    assert 'http-equiv="refresh"' in accepting.text  # its acceptance, while it runs
    assert "Annahme der Liste" in accepting.text
    assert "in Annahme" in api.client.get("/app/auftraege").text
    run_to_end(api, service)
    campaign = api.client.get(f"/v1/campaigns/{send_page.rsplit('/', 1)[1]}",
                              headers=customer.headers).json()  # fmt: skip
    assert campaign["expected_cost"] == 8 * 790  # reserved what the confirmation named
    assert campaign["recipients"] == 8
    api.catch_up()
    accepted = api.client.get(send_page)
    assert accepted.status_code == 200
    assert "Annahme der Liste" not in accepted.text  # a send now, followed as it goes
    assert 'http-equiv="refresh" content="5"' in accepted.text


def test_compose_to_a_list_refuses_another_accounts_list(api: ApiHarness) -> None:
    _owner, list_id = customer_with_list(api, 2)
    api.register("otto2")
    assert sign_in(api, "otto2").status_code == 303
    csrf = token_of(api.client.get("/app/senden"), "csrf_token")
    draft = {"csrf_token": csrf, "list_id": list_id, "sender": "Kontor", "text": "Hallo"}
    for action in ("preview", "confirm", "send"):
        refused = api.client.post("/app/senden", data=draft | {"action": action}, headers=FORM)
        assert refused.status_code == 404, refused.text
        assert "Kunde" not in refused.text
        assert "Diese Liste gibt es nicht." in refused.text  # said in German, not as the API
    nonsense = api.client.post("/app/senden", data=draft | {"list_id": "nope"}, headers=FORM)
    assert nonsense.status_code == 422
    assert "eine Ihrer Listen" in nonsense.text


def test_recipients_are_added_found_changed_and_removed_one_by_one(api: ApiHarness) -> None:
    customer, list_id = customer_with_list(api, 3)
    assert sign_in(api, customer.username).status_code == 303
    page_path = f"/app/listen/{list_id}"
    shown = api.client.get(page_path)
    assert shown.status_code == 200, shown.text
    assert shown.text.count("Kunde ") == 3  # every recipient with its columns
    csrf = token_of(shown, "csrf_token")
    added = api.client.post(f"{page_path}/empfaenger", headers=FORM, data={
        "csrf_token": csrf, "pasted": "0170 1111111\nkeine Nummer\n0151 20000001"})  # fmt: skip
    assert added.status_code == 200, added.text
    assert "1 hinzugefügt, 1 schon in der Liste" in added.text
    assert '<td class="num">2</td>' in added.text  # the line that is no number, said
    found = api.client.get(page_path, params={"nummer": "+49 170 1111111"})
    assert found.status_code == 200
    assert "00491701111111" in found.text
    assert "Kunde " not in found.text
    edit_path = re.search(rf'href="({page_path}/empfaenger/\d+)"', found.text)
    assert edit_path, found.text
    edit = api.client.get(edit_path.group(1))
    assert edit.status_code == 200, edit.text
    changed = api.client.post(edit_path.group(1), headers=FORM, data={
        "csrf_token": csrf, "action": "save", "number": "0170 1111111",
        "field:vorname": "Greta"}, follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303, changed.text
    assert "Greta" in api.client.get(page_path, params={"nummer": "01701111111"}).text
    bad = api.client.post(edit_path.group(1), headers=FORM, data={
        "csrf_token": csrf, "action": "save", "number": "keine"})  # fmt: skip
    assert bad.status_code == 422, bad.text
    assert 'role="alert"' in bad.text
    removed = api.client.post(edit_path.group(1), headers=FORM, data={
        "csrf_token": csrf, "action": "remove"}, follow_redirects=False)  # fmt: skip
    assert removed.status_code == 303
    assert "Keine Empfänger gefunden" in api.client.get(
        page_path, params={"nummer": "01701111111"}).text  # fmt: skip
    assert api.client.get(edit_path.group(1)).status_code == 404
    api.register("fremd")
    api.client.cookies.clear()
    assert sign_in(api, "fremd").status_code == 303
    assert api.client.get(page_path).status_code == 404  # another's list, never shown


def test_the_opt_out_list_is_kept_and_a_person_erased_in_the_application(
    api: ApiHarness,
) -> None:
    customer, list_id = customer_with_list(api, 3)
    assert sign_in(api, customer.username).status_code == 303
    shown = api.client.get("/app/sperrliste")
    assert shown.status_code == 200, shown.text
    assert "Noch keine Nummer" in shown.text
    csrf = token_of(shown, "csrf_token")
    put = api.client.post("/app/sperrliste", headers=FORM, follow_redirects=False,
                          data={"csrf_token": csrf, "number": "0151 20000001"})  # fmt: skip
    assert put.status_code == 303, put.text
    listed = api.client.get("/app/sperrliste")
    assert "004915120000001" in listed.text
    assert "abgemeldet" in api.client.get(f"/app/listen/{list_id}").text  # marked in the list
    bad = api.client.post("/app/sperrliste", headers=FORM,
                          data={"csrf_token": csrf, "number": "keine"})  # fmt: skip
    assert bad.status_code == 422
    withdraw = re.search(r'action="(/app/sperrliste/[0-9a-f-]+/entfernen)"', listed.text)
    assert withdraw, listed.text
    no_reason = api.client.post(withdraw.group(1), headers=FORM,
                                data={"csrf_token": csrf, "reason": "  "})  # fmt: skip
    assert no_reason.status_code == 422
    assert "Sagen Sie" in no_reason.text
    taken = api.client.post(withdraw.group(1), headers=FORM, follow_redirects=False,
                            data={"csrf_token": csrf, "reason": "wieder eingewilligt"})  # fmt: skip
    assert taken.status_code == 303
    assert "004915120000001" not in api.client.get("/app/sperrliste").text
    unconfirmed = api.client.post("/app/sperrliste/loeschen", headers=FORM,
                                  data={"csrf_token": csrf, "number": "0151 20000002"})  # fmt: skip
    assert unconfirmed.status_code == 422
    assert api.client.get(f"/app/listen/{list_id}").text.count("Kunde ") == 3
    erased = api.client.post("/app/sperrliste/loeschen", headers=FORM, data={
        "csrf_token": csrf, "number": "0151 20000002", "confirm": "yes"})  # fmt: skip
    assert erased.status_code == 200, erased.text
    assert "Aus 1 Listen gelöscht" in erased.text
    words = api.client.post("/app/sperrliste/stoppwoerter", headers=FORM, follow_redirects=False,
                            data={"csrf_token": csrf, "words": "Ende, Schluß"})  # fmt: skip
    assert words.status_code == 303, words.text
    assert "Dazu Ihre eigenen Wörter: ende, schluss." in api.client.get("/app/sperrliste").text
    bad = api.client.post("/app/sperrliste/stoppwoerter", headers=FORM,
                          data={"csrf_token": csrf, "words": "x" * 40})  # fmt: skip
    assert bad.status_code == 422
    assert "einzelnes Wort" in bad.text
    assert api.client.get(f"/app/listen/{list_id}").text.count("Kunde ") == 2


def test_an_operator_adjusts_changes_the_contract_and_blocks_each_after_a_confirmation(
    api: ApiHarness,
) -> None:
    customer = api.register("hanna")
    sent = api.client.post("/v1/messages", headers=customer.headers, json={
        "to": ["+4915112349876"], "text": "Hallo", "sender": "Shop"})  # fmt: skip
    assert sent.status_code == 201, sent.text
    api.catch_up()
    messaging_runner(api.backend).catch_up()
    started = datetime.now(UTC)
    staff_session(api, "olga-op", UserRole.OPERATOR)
    by_phone = api.client.get("/app/mitarbeiter", params={"q": "0151 12349876"},
                              follow_redirects=False)  # fmt: skip
    assert by_phone.status_code == 303, by_phone.text  # the account that sent to that number
    page_path = f"/app/mitarbeiter/konten/{customer.account_id}"
    assert by_phone.headers["location"] == page_path
    account = api.client.get(page_path)
    assert account.status_code == 200, account.text
    assert "hanna" in account.text  # its users
    send_link = re.search(r'href="(/app/mitarbeiter/auftraege/[0-9a-f-]+)"', account.text)
    assert send_link, account.text
    send_page = api.client.get(send_link.group(1))
    assert send_page.status_code == 200, send_page.text
    message_link = re.search(r'href="(/app/mitarbeiter/nachrichten/[0-9a-f-]+)"', send_page.text)
    assert message_link, send_page.text
    message = api.client.get(message_link.group(1))
    assert message.status_code == 200, message.text
    assert "Zum Versand erfasst" in message.text  # its history, replayed from the events
    early = api.client.get(message_link.group(1), params={"bis": "2020-01-01T00:00:00"})
    assert early.status_code == 200
    assert "Zum Versand erfasst" not in early.text  # nothing had happened to it by then
    assert api.client.get(f"{send_link.group(1)}/verlauf.svg").status_code == 200
    csrf = token_of(account, "csrf_token")
    goodwill = {"csrf_token": csrf, "kind": "goodwill", "amount": "5,00",
                "reason": "Ausfall am Montag", "reference": "KUL-7"}  # fmt: skip
    before = api.balance(customer)["available"]
    asked = api.client.post(f"{page_path}/korrektur", data=goodwill, headers=FORM)
    assert asked.status_code == 200, asked.text
    assert "Kulanzgutschrift über 5,00\xa0€" in asked.text  # the confirmation says what
    assert api.balance(customer)["available"] == before  # nothing booked yet
    done = api.client.post(f"{page_path}/korrektur", data=goodwill | {"confirmed": "yes"},
                           headers=FORM, follow_redirects=False)  # fmt: skip
    assert done.status_code == 303, done.text
    api.catch_up()
    assert api.balance(customer)["available"] == before + 50_000
    again = api.client.post(f"{page_path}/korrektur", data=goodwill | {"confirmed": "yes"},
                            headers=FORM, follow_redirects=False)  # fmt: skip
    assert again.status_code == 303
    api.catch_up()
    assert api.balance(customer)["available"] == before + 50_000  # one booking per reference
    contract = {"csrf_token": csrf, "tariff": "quality", "contract": "prepaid",
                "module:surveys": "yes"}  # fmt: skip
    asked = api.client.post(f"{page_path}/vertrag", data=contract, headers=FORM)
    assert asked.status_code == 200, asked.text
    assert "Module: Umfragen" in asked.text
    changed = api.client.post(f"{page_path}/vertrag", data=contract | {"confirmed": "yes"},
                              headers=FORM, follow_redirects=False)  # fmt: skip
    assert changed.status_code == 303, changed.text
    read = api.client.get("/v1/account", headers=customer.headers)
    assert read.json()["modules"] == ["surveys"]
    nothing = api.client.post(f"{page_path}/vertrag", data=contract, headers=FORM)
    assert nothing.status_code == 422  # nothing would change
    block = {"csrf_token": csrf, "state": "blocked", "reason": "Zahlungsverzug"}
    asked = api.client.post(f"{page_path}/status", data=block, headers=FORM)
    assert asked.status_code == 200
    assert api.client.get("/v1/account", headers=customer.headers).status_code == 200
    blocked = api.client.post(f"{page_path}/status", data=block | {"confirmed": "yes"},
                              headers=FORM, follow_redirects=False)  # fmt: skip
    assert blocked.status_code == 303
    history = api.client.get(f"{page_path}/verlauf")
    assert history.status_code == 200, history.text
    assert "ModulesChanged" in history.text
    assert "Zahlungsverzug" in history.text
    assert "hanna@" not in history.text  # personal data redacted for staff
    as_of = started.astimezone(ZoneInfo("Europe/Berlin")).replace(tzinfo=None).isoformat()
    then = api.client.get(f"{page_path}/verlauf", params={"bis": as_of})
    assert then.status_code == 200, then.text
    assert "ModulesChanged" not in then.text  # as it was before the changes
    assert "aktiv" in then.text
    future = api.client.get(f"{page_path}/verlauf", params={"bis": "2099-01-01T00:00:00"})
    assert future.status_code == 422


def test_finance_reads_the_trial_balance_as_of_a_moment_and_the_journal(
    api: ApiHarness,
) -> None:
    customer = api.register("ilse")
    assert api.topup(customer, 119_000, "ilse-1").status_code == 201
    api.catch_up()
    staff_session(api, "fina-fin", UserRole.FINANCE)
    balance = api.client.get("/app/finanzen")
    assert balance.status_code == 200, balance.text
    assert "Summen- und Saldenliste" in balance.text
    assert "ausgeglichen" in balance.text
    assert "nicht ausgeglichen" not in balance.text
    assert "Kundenguthaben" in balance.text
    csv_link = re.search(r'href="(/v1/finance/trial-balance\?[^"]+)"', balance.text)
    assert csv_link, balance.text
    exported = api.client.get(csv_link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200, exported.text  # the API's CSV, with the session
    assert exported.text.startswith("account;title;debit_eur;credit_eur")
    before = api.client.get("/app/finanzen", params={"stand": "2020-01-01T00:00:00"})
    assert before.status_code == 200
    assert "01.01.20" in before.text
    future = api.client.get("/app/finanzen", params={"stand": "2099-01-01T00:00:00"})
    assert future.status_code == 422
    assert "keine Zahlen" in future.text
    journal = api.client.get("/app/finanzen/journal")
    assert journal.status_code == 200, journal.text
    assert "Kundenguthaben" in journal.text
    backwards = api.client.get("/app/finanzen/journal", params={"von": "2026-03-02",
                                                              "bis": "2026-03-01"})  # fmt: skip
    assert backwards.status_code == 422
    api.client.cookies.clear()
    staff_session(api, "sven-sup", UserRole.SUPPORT)
    assert api.client.get("/app/finanzen").status_code == 403  # support reads no ledger


def test_a_role_that_is_none_of_the_choices_is_refused_at_the_form(api: ApiHarness) -> None:
    api.register("jonas")
    assert sign_in(api, "jonas").status_code == 303
    csrf = token_of(api.client.get("/app/benutzer"), "csrf_token")
    invited = api.client.post("/app/benutzer/einladen", headers=FORM, data={
        "csrf_token": csrf, "email": "x@example.de", "role": "emperor"})  # fmt: skip
    assert invited.status_code == 422, invited.text
    assert "Wählen Sie eine der Rollen." in invited.text
    key = api.client.post("/app/zugang/schluessel", headers=FORM, data={
        "csrf_token": csrf, "label": "x", "role": "emperor"})  # fmt: skip
    assert key.status_code == 422, key.text
    assert not re.search(r"kt_[a-z2-7]{12}_[A-Za-z0-9]", key.text)  # no new key shown: none made
