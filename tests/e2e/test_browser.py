"""The browser application in a real browser: Debian's headless Chromium driven by Playwright,
against ``kontor up`` (its own PostgreSQL, NATS, SMSC simulator and workers), at desktop and
at phone width (360 px). Every page visited is saved as a screenshot under
``var/screenshots/<test>/`` (README: "Screenshots"), for whoever reviews the application."""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
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
    running = RunningPlatform(var_dir)
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
    page.get_by_label("Passwort", exact=True).fill(SAMPLE_PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Übersicht")).to_be_visible()


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
    page.get_by_label("Empfänger").fill("0151 23456789")
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
