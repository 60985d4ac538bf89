"""The browser application in a real browser: Debian's headless Chromium driven by Playwright,
against ``kontor up`` (its own PostgreSQL, NATS, SMSC simulator and workers), at desktop and
at phone width (360 px). Every page visited is saved as a screenshot under
``var/screenshots/<test>/`` (README: "Screenshots"), for whoever reviews the application."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from kontor.samples import SAMPLE_PASSWORD, registration
from tests.support.platform import RunningPlatform
from tests.support.servers import ROOT, TEST_VAR, unique_name

SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}


@pytest.fixture(scope="module")
def platform() -> Iterator[RunningPlatform]:
    var_dir = TEST_VAR / unique_name("browser-")
    # Every test registers customers from this one address: more than a real one would.
    running = RunningPlatform(var_dir, extra_env={"KONTOR_REGISTRATIONS_PER_HOUR": "1000"})
    try:
        running.wait_up()
        yield running
    finally:
        running.stop()
        shutil.rmtree(var_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed (./dev test installs it)"
    with sync_playwright() as playwright:
        # --no-sandbox: the suite may run as root (CI), where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


class Visit:
    """A browser page at one width that saves a screenshot of every page it looks at."""

    def __init__(self, page: Page, base: str, folder: Path, width: str) -> None:
        self.page, self.base, self.folder, self.width = page, base, folder, width
        folder.mkdir(parents=True, exist_ok=True)

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=self.folder / f"{name}-{self.width}.png", full_page=True)
        overflow = self.page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} is wider than the {self.width} screen by {overflow} px"


@pytest.fixture(params=sorted(WIDTHS))
def visit(
    request: pytest.FixtureRequest, platform: RunningPlatform, browser: Browser
) -> Iterator[Visit]:
    width = str(request.param)
    context = browser.new_context(viewport=WIDTHS[width], locale="de-DE")  # type: ignore[arg-type]
    folder = SCREENSHOTS / re.sub(r"\[.*\]$", "", request.node.name)
    try:
        yield Visit(context.new_page(), str(platform.state["api"]), folder, width)
    finally:
        context.close()


def test_a_customer_signs_up_sees_the_trial_credit_signs_out_and_in(visit: Visit) -> None:
    page, username = visit.page, f"web{secrets.token_hex(3)}"
    visit.go("/")
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    visit.shot("sign-in")
    page.get_by_role("link", name="Konto eröffnen").click()
    expect(page.get_by_role("heading", name="Konto eröffnen")).to_be_visible()
    visit.shot("sign-up")
    page.get_by_label("Privatkunde").check()
    page.get_by_label("Vorname", exact=True).fill("Paula")
    page.get_by_label("Nachname", exact=True).fill("Berger")
    page.get_by_label("Straße und Hausnummer").fill("Lindenallee 4")
    page.get_by_label("PLZ", exact=True).fill("04109")
    page.get_by_label("Ort", exact=True).fill("Leipzig")
    page.get_by_label("E-Mail-Adresse").fill(f"{username}@example.de")
    page.get_by_label("Telefon", exact=True).fill("+49 341 555 0101")
    page.get_by_label("Benutzername", exact=True).fill(username)
    page.get_by_label("Passwort (mindestens 10 Zeichen)").fill(SAMPLE_PASSWORD)
    page.get_by_label(re.compile("Ich akzeptiere die AGB")).check()
    page.get_by_role("button", name="Konto eröffnen").click()
    expect(page.get_by_role("heading", name="Willkommen bei Kontor")).to_be_visible()
    expect(page.get_by_text("1,00\xa0€")).to_be_visible()
    expect(page.locator("code.secret")).to_have_text(re.compile(r"^kt_[a-z2-7]{12}_"))
    visit.shot("welcome")
    page.get_by_role("link", name="Zur Übersicht").click()
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    credit = page.locator(".figure", has_text="Verfügbares Guthaben")
    expect(credit).to_contain_text("1,00\xa0€")
    expect(page.locator(".figure", has_text="Restvolumen")).to_contain_text("SMS")
    visit.shot("overview")
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()
    page.get_by_label("Benutzername, E-Mail-Adresse oder Kundennummer").fill(username)
    page.get_by_label("Passwort", exact=True).fill("not the password")
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("alert")).to_contain_text("Die Anmeldedaten passen nicht")
    visit.shot("sign-in-refused")
    # The keyboard alone: the password typed into its field, Enter sends the form.
    page.get_by_label("Passwort", exact=True).fill("")
    page.get_by_label("Passwort", exact=True).focus()
    page.keyboard.type(SAMPLE_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    page.keyboard.press("Tab")  # the first stop of every page: the link to skip to the content
    expect(page.get_by_role("link", name="Zum Inhalt springen")).to_be_focused()


def test_english_is_a_click_away(visit: Visit) -> None:
    page = visit.page
    visit.go("/anmelden")
    page.get_by_role("link", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    visit.shot("sign-in-english")
    page.get_by_role("link", name="DE", exact=True).click()
    expect(page.get_by_role("heading", name="Anmelden")).to_be_visible()


def test_a_customer_composes_sees_the_live_preview_and_sends(visit: Visit) -> None:
    page, username = visit.page, f"cmp{secrets.token_hex(3)}"
    created = httpx.post(f"{visit.base}/v1/accounts", json=registration(username), timeout=30)
    assert created.status_code == 201, created.text
    visit.go("/anmelden")
    page.get_by_label("Benutzername, E-Mail-Adresse oder Kundennummer").fill(username)
    page.get_by_label("Passwort", exact=True).fill(SAMPLE_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.get_by_role("link", name="SMS versenden").click()
    expect(page.get_by_role("heading", name="SMS versenden")).to_be_visible()
    page.get_by_label("Nummern").fill("0151 23456789")
    page.get_by_label("Absenderkennung").fill("Praxis")
    page.get_by_label("Text", exact=True).fill("Ihr Termin ist morgen um 9 Uhr.")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("GSM-7")  # asked for as the user typed, no button
    expect(preview).to_contain_text("0,079\xa0€")
    page.get_by_label("Text", exact=True).fill("Ihr Termin ist morgen um 9 Uhr – bis dann!")
    expect(preview).to_contain_text("Unicode")  # the dash forces it, and says so
    visit.shot("compose")
    page.get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("heading", name="Versand bestätigen")).to_be_visible()
    visit.shot("confirm")
    page.get_by_role("button", name=re.compile("versenden$")).click()
    expect(page.get_by_role("heading", name="Praxis")).to_be_visible()  # the send's page
    expect(page.locator(".figure", has_text="Empfänger")).to_contain_text("1")
    visit.shot("send")
    # The page follows the send until its reports are in: the SMSC simulator delivers it.
    expect(page.locator(".colours .state-green")).to_have_text(
        re.compile("zugestellt: 1"), timeout=60_000
    )
    expect(page.get_by_role("img", name=re.compile("1 zugestellt"))).to_be_visible()
    visit.shot("send-delivered")
    page.get_by_role("link", name="Nachricht 1").click()  # the message's page, its history
    expect(page.get_by_role("heading", name="Nachricht an 004915123456789")).to_be_visible()
    expect(page.locator("ol.history")).to_contain_text("Zustellbericht")
    visit.shot("message")


def test_a_new_operator_sets_up_releases_a_campaign_and_credits_a_payment(
    visit: Visit, platform: RunningPlatform
) -> None:
    page, base = visit.page, visit.base
    customer = f"rev{secrets.token_hex(3)}"
    registered = httpx.post(f"{base}/v1/accounts", json=registration(customer), timeout=30)
    assert registered.status_code == 201, registered.text
    created = registered.json()
    key = {"Authorization": f"Bearer {created['api_key']}"}
    admin = {"Authorization": "Bearer " + json.loads(
        (platform.var_dir / "secrets.json").read_text())["admin_api_key"]}  # fmt: skip
    assert httpx.patch(f"{base}/v1/admin/accounts/{created['account_id']}", headers=admin,
                       json={"review_threshold": 1}, timeout=30).status_code == 200  # fmt: skip
    held = httpx.post(f"{base}/v1/campaigns", headers=key, timeout=30, json={
        "text": "Frohes Fest!", "sender": "Shop", "name": "Weihnachtsgruß",
        "recipients": [{"number": "+4915112343000"}, {"number": "+4915112343001"}]})  # fmt: skip
    assert held.status_code == 202, held.text
    operator = f"op{secrets.token_hex(3)}"
    added = subprocess.run(
        [sys.executable, "-m", "kontor", "staff", "add", "--username", operator,
         "--email", f"{operator}@kontor.example", "--role", "operator"],
        cwd=ROOT, env=os.environ | {"KONTOR_VAR_DIR": str(platform.var_dir)},
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    link = re.search(r"(http\S+/reset-password#token=\S+)", added.stdout)
    assert link, added.stdout
    page.goto(base + "/reset-password#" + link.group(1).partition("#")[2])
    expect(page.get_by_label("Code aus dem Link")).not_to_have_value("")  # from the fragment
    page.get_by_label("Neues Passwort (mindestens 10 Zeichen)").fill(SAMPLE_PASSWORD)
    page.get_by_role("button", name="Passwort setzen").click()
    expect(page.get_by_role("status")).to_contain_text("Ihr neues Passwort ist gesetzt")
    page.get_by_label("Benutzername, E-Mail-Adresse oder Kundennummer").fill(operator)
    page.get_by_label("Passwort", exact=True).fill(SAMPLE_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Zwei-Faktor-Anmeldung")).to_be_visible()
    page.get_by_role("button", name="Einrichten").click()
    secret = page.locator("code.secret").inner_text()
    page.get_by_label("Code aus Ihrer Authenticator-App").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Einschalten").click()
    expect(page.locator("ul.codes li")).to_have_count(10)
    page.get_by_role("link", name="Mitarbeiter").click()
    row = page.locator("tr", has_text="Weihnachtsgruß")
    expect(row).to_be_visible()
    visit.shot("review-queue")
    row.get_by_role("button", name="Freigeben").click()
    expect(page.locator("tr", has_text="Weihnachtsgruß")).to_have_count(0)
    page.get_by_label("Kundennummer, Benutzername, E-Mail-Adresse oder die Handynummer").fill(
        customer
    )
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("heading", name=re.compile("^Konto K-"))).to_be_visible()
    page.get_by_label("Betrag, netto (EUR)").fill("25,00")
    page.get_by_label("Zahlungsreferenz").fill("UEB-4711")
    section = page.locator("section.card", has_text="Zahlung gutschreiben")
    section.get_by_role("button", name="Weiter").click()
    visit.shot("credit-confirmation")
    page.get_by_role("button", name="25,00\xa0€ gutschreiben").click()
    expect(page.get_by_role("status")).to_contain_text("25,00\xa0€ gutgeschrieben")
    credit = page.locator(".figure", has_text="Verfügbares Guthaben")
    for _ in range(50):  # the read side catches up within seconds; a reload shows it
        if "25,84" in credit.inner_text():
            break
        time.sleep(0.2)
        page.reload()
    expect(credit).to_contain_text("25,84\xa0€")  # 1.00 trial + 25.00, less 0.16 held
    visit.shot("staff-account")
    # A goodwill credit, confirmed; the account's history; the finance pages.
    adjust = page.locator("section.card", has_text="Guthaben korrigieren")
    adjust.get_by_label("Betrag der Korrektur, netto (EUR)").fill("2,00")
    adjust.get_by_label("Grund").fill("Ausfall am Montag")
    adjust.get_by_label("Referenz").fill("KUL-1")
    adjust.get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("status")).to_contain_text("Kulanzgutschrift über 2,00\xa0€")
    visit.shot("adjustment-confirmation")
    page.get_by_role("button", name="Ja, ausführen").click()
    expect(page.get_by_role("status")).to_contain_text("Erledigt")
    page.get_by_role("link", name="Der Verlauf des Kontos").click()
    expect(page.get_by_role("heading", name="Der Verlauf des Kontos")).to_be_visible()
    expect(page.get_by_text("CreditPurchased").first).to_be_visible()
    visit.shot("account-history")
    page.get_by_role("link", name="Finanzen").click()
    expect(page.get_by_text("ausgeglichen", exact=True)).to_be_visible()
    visit.shot("trial-balance")
    page.get_by_role("link", name="Journal").click()
    expect(page.get_by_role("heading", name="Journal")).to_be_visible()
    visit.shot("journal")


WINDOWS_CSV = (
    "Anrede;Vorname;Handy\r\nFrau;Jürgen;0171 2345678\r\nHerr;Sören;keine Nummer\r\n"
    "Frau;Zoë;0160 1234567\r\n"
).encode("cp1252")


def signed_in_customer(visit: Visit, prefix: str) -> str:
    """A customer registered over the API, signed in in the browser; their username."""
    page, username = visit.page, f"{prefix}{secrets.token_hex(3)}"
    registered = httpx.post(f"{visit.base}/v1/accounts", json=registration(username), timeout=30)
    assert registered.status_code == 201, registered.text
    visit.go("/anmelden")
    page.get_by_label("Benutzername, E-Mail-Adresse oder Kundennummer").fill(username)
    page.get_by_label("Passwort", exact=True).fill(SAMPLE_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()
    return username


def test_a_windows_csv_with_bad_lines_is_imported_and_its_rejections_shown(
    visit: Visit, tmp_path: Path
) -> None:
    page = visit.page
    signed_in_customer(visit, "imp")
    page.get_by_role("link", name="Listen").click()
    page.get_by_label("Name").fill("Stammkunden")
    page.get_by_role("button", name="Anlegen").click()
    expect(page.get_by_role("heading", name="Stammkunden")).to_be_visible()
    upload = tmp_path / "kunden.csv"
    upload.write_bytes(WINDOWS_CSV)
    page.get_by_label("Datei (.csv oder .txt, bis 100 MB)").set_input_files(upload)
    visit.shot("list")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("heading", name="Import")).to_be_visible()
    expect(page.get_by_text("fertig")).to_be_visible(timeout=60_000)  # it refreshes itself
    expect(page.locator(".figure", has_text="Importiert")).to_contain_text("2")
    expect(page.locator("tr", has_text="keine Nummer")).to_be_visible()  # the rejected line
    visit.shot("import")
    page.get_by_role("link", name="Zur Liste").click()
    expect(page.locator("tbody tr")).to_have_count(2)  # the recipients, one by one
    visit.shot("list-recipients")
    # A personalised message to the list: the placeholder offered from its columns, the
    # preview's price, and the confirmation's cost equal to what the campaign then reserves.
    page.get_by_role("link", name="SMS an diese Liste senden").click()
    page.get_by_label("Absenderkennung").fill("Praxis")
    page.get_by_label("Text", exact=True).fill("Hallo ")
    page.get_by_role("button", name="{vorname}").click()
    expect(page.get_by_label("Text", exact=True)).to_have_value("Hallo {vorname}")
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Empfänger in der Liste")
    expect(preview).to_contain_text(re.compile("Hallo (Jürgen|Zoë)"))
    visit.shot("compose-list")
    page.get_by_role("button", name="Weiter").click()
    expect(page.get_by_role("heading", name="Versand bestätigen")).to_be_visible()
    cost = page.locator(".figure strong").first.inner_text()
    visit.shot("confirm-list")
    page.get_by_role("button", name=re.compile("versenden$")).click()
    expect(page.locator(".figure", has_text="Kosten bisher")).to_contain_text(
        f"von voraussichtlich {cost}", timeout=60_000
    )  # accepted in the background (its progress refreshes itself), charged what was named
    visit.shot("send-list")


def test_a_scheduled_send_is_cancelled_and_the_statement_read(visit: Visit) -> None:
    page = visit.page
    signed_in_customer(visit, "sch")
    page.get_by_role("link", name="SMS versenden").click()
    page.get_by_label("Nummern").fill("0151 23456789\n0160 1234567")
    page.get_by_label("Absenderkennung").fill("Praxis")
    page.get_by_label("Text", exact=True).fill("Erinnerung: Ihr Termin am Montag.")
    day = datetime.now(ZoneInfo("Europe/Berlin")).date() + timedelta(days=30)
    page.get_by_label("Senden um (Europe/Berlin; leer: sofort)").fill(f"{day}T09:30")
    page.get_by_role("button", name="Weiter").click()
    shown = f"{day:%d.%m.%y}, 09:30"
    expect(page.get_by_text(f"Wird am {shown} versendet.")).to_be_visible()
    page.get_by_role("button", name=re.compile("versenden$")).click()
    expect(page.locator(".figure", has_text="Geplant für")).to_contain_text(shown)
    visit.shot("scheduled-send")
    page.get_by_role("button", name="Auftrag stornieren").click()
    expect(page.locator(".figure", has_text="Status")).to_contain_text("storniert")
    page.get_by_role("link", name="Guthaben").click()
    expect(page.get_by_role("heading", name="Kontoauszug")).to_be_visible()
    expect(page.locator("tbody tr").first).to_be_visible()
    expect(page.get_by_role("link", name="Als CSV herunterladen")).to_be_visible()
    visit.shot("credit")
    page.get_by_role("link", name="Sperrliste").click()
    page.get_by_label("Nummer", exact=True).first.fill("0151 23456789")
    page.get_by_role("button", name="Auf die Liste setzen").click()
    expect(page.locator("tbody tr", has_text="004915123456789")).to_be_visible()
    visit.shot("opt-outs")
